/**
 * ManifestStore port on the job's DynamoDB table: the job item (pk `tableKeys.jobPk`, sk
 * `tableKeys.jobSk`) and one item per checkpoint (sk `tableKeys.checkpointSk`), each record as
 * a JSON string attribute `record`, plus the attributes conditions test: `version` on the job
 * item, `status` and `rev` (a write counter) on checkpoint items.
 *
 * What must hold:
 * - `putJob` writes only over the version read (or only when absent) and stores version + 1;
 * - every checkpoint mutation is ONE conditional write computed from a consistent read:
 *   the transition (core/manifest's `applyAck` for acks) decides, the PutItem is conditioned on
 *   `rev` being unchanged (and, for acks, the status still PENDING). A lost race re-reads and
 *   decides again, so the ack that completes the expected set flips the status in the same
 *   write, and racing acks complete a checkpoint exactly once;
 * - every read is strongly consistent.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { TransientStorageError } from '../../core/errors.js';
import type { CheckpointId, JobName, SubtaskKey } from '../../core/ids.js';
import {
  abortedTombstone,
  applyAck,
  type AckInfo,
  type AckOutcome,
  type CheckpointFailureReason,
  type CheckpointRecord,
  type JobRecord,
} from '../../core/manifest.js';
import { tableKeys } from '../../core/wire/storage-keys.js';
import type { ManifestStore } from '../../ports/manifest-store.js';
import { DYNAMODB_ITEM_LIMIT } from './dynamodb-state-store.js';
import { attempt, isConditionFailed, translateError } from './errors.js';

type Item = Record<string, AttributeValue>;
/** Racing writers of one checkpoint item: each round one of them wins, so this bounds a race of this many. */
const MAX_RACE_ATTEMPTS = 40;

/** What a checkpoint mutation decided: the result, and the record to write if any. */
type Decision<T> = { readonly result: T; readonly write?: CheckpointRecord; readonly onlyIfPending?: boolean };

export class DynamoDbManifestStore implements ManifestStore {
  constructor(
    private readonly client: DynamoDBClient,
    readonly table: string,
  ) {}

  async getJob(job: string): Promise<JobRecord | null> {
    const item = await this.read(tableKeys.jobPk(job as JobName), tableKeys.jobSk);
    return item ? (JSON.parse(item.record!.S!) as JobRecord) : null;
  }

  async putJob(record: JobRecord, expectedVersion: number | null): Promise<boolean> {
    const version = (expectedVersion ?? -1) + 1;
    const item = { pk: { S: tableKeys.jobPk(record.job) }, sk: { S: tableKeys.jobSk }, version: { N: String(version) }, record: { S: JSON.stringify({ ...record, version }) }, w: { S: randomUUID() } };
    return this.conditionalPut(item, expectedVersion === null
      ? { ConditionExpression: 'attribute_not_exists(pk)' }
      : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': { N: String(expectedVersion) } } });
  }

  async getCheckpoint(job: string, id: CheckpointId): Promise<CheckpointRecord | null> {
    const item = await this.read(tableKeys.jobPk(job as JobName), tableKeys.checkpointSk(id));
    return item ? parseCheckpoint(item) : null;
  }

  async listCheckpoints(job: string, options: { limit?: number } = {}): Promise<CheckpointRecord[]> {
    const pk = tableKeys.jobPk(job as JobName);
    const out: CheckpointRecord[] = [];
    let start: Item | undefined;
    do {
      const remaining = options.limit === undefined ? undefined : options.limit - out.length;
      if (remaining !== undefined && remaining <= 0) break;
      const page = await attempt('dynamodb', `Query ${pk} checkpoints`, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: tableKeys.checkpointSkPrefix } },
            ScanIndexForward: false,
            ConsistentRead: true,
            ...(remaining !== undefined ? { Limit: remaining } : {}),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      out.push(...(page.Items ?? []).map(parseCheckpoint));
      start = page.LastEvaluatedKey;
    } while (start);
    return options.limit === undefined ? out : out.slice(0, options.limit);
  }

  createCheckpoint(job: string, record: CheckpointRecord): Promise<boolean> {
    return this.conditionalPut(checkpointItem(job, record, 0), { ConditionExpression: 'attribute_not_exists(pk)' });
  }

  ack(job: string, id: CheckpointId, subtask: SubtaskKey, info: AckInfo, now: number): Promise<AckOutcome> {
    return this.mutate(job, id, `ack ${subtask}`, (current) => {
      const outcome = applyAck(current ?? undefined, subtask, info, now);
      const write = outcome.kind === 'acked' || outcome.kind === 'completed' ? outcome.record : undefined;
      return { result: outcome, ...(write ? { write, onlyIfPending: true } : {}) };
    });
  }

  abort(job: string, id: CheckpointId, reason: CheckpointFailureReason, now: number, tombstone?: { gen: number }): Promise<boolean> {
    return this.mutate(job, id, 'abort', (current) => {
      if (!current) return tombstone ? { result: true, write: abortedTombstone(id, tombstone.gen, reason, now) } : { result: false };
      if (current.status !== 'PENDING') return { result: false };
      return { result: true, write: { ...current, status: 'ABORTED', reason, completedAt: now }, onlyIfPending: true };
    });
  }

  async mark(job: string, id: CheckpointId, flag: 'triggersSent' | 'notified'): Promise<void> {
    await this.mutate(job, id, `mark ${flag}`, (current) =>
      !current || current[flag] ? { result: undefined } : { result: undefined, write: { ...current, [flag]: true } },
    );
  }

  async markCommitted(job: string, id: CheckpointId, subtask: SubtaskKey): Promise<void> {
    await this.mutate(job, id, `mark ${subtask} committed`, (current) =>
      !current || (current.committed ?? []).includes(subtask)
        ? { result: undefined }
        : { result: undefined, write: { ...current, committed: [...(current.committed ?? []), subtask] } },
    );
  }

  discardCheckpoint(job: string, id: CheckpointId): Promise<boolean> {
    return this.mutate(job, id, 'discard', (current) =>
      current?.status === 'COMPLETED' ? { result: true, write: { ...current, status: 'DISCARDED' } } : { result: false },
    );
  }

  async deleteCheckpoint(job: string, id: CheckpointId): Promise<void> {
    const key = { pk: { S: tableKeys.jobPk(job as JobName) }, sk: { S: tableKeys.checkpointSk(id) } };
    await attempt('dynamodb', `DeleteItem ${key.pk.S}/${key.sk.S}`, () => this.client.send(new DeleteItemCommand({ TableName: this.table, Key: key })));
  }

  /** Read, decide, write conditioned on nothing having changed since the read; again on a lost race. */
  private async mutate<T>(job: string, id: CheckpointId, what: string, decide: (current: CheckpointRecord | null) => Decision<T>): Promise<T> {
    const pk = tableKeys.jobPk(job as JobName);
    const sk = tableKeys.checkpointSk(id);
    for (let n = 0; n < MAX_RACE_ATTEMPTS; n++) {
      if (n > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(200, 5 * n) * (0.5 + Math.random())));
      const item = await this.read(pk, sk);
      const current = item ? parseCheckpoint(item) : null;
      const decision = decide(current);
      if (!decision.write) return decision.result;
      const rev = item ? Number(item.rev?.N ?? 0) : -1;
      const condition = item
        ? {
            ConditionExpression: decision.onlyIfPending ? 'rev = :rev AND #status = :pending' : 'rev = :rev',
            ExpressionAttributeNames: decision.onlyIfPending ? { '#status': 'status' } : undefined,
            ExpressionAttributeValues: { ':rev': { N: String(rev) }, ...(decision.onlyIfPending ? { ':pending': { S: 'PENDING' } } : {}) },
          }
        : { ConditionExpression: 'attribute_not_exists(pk)' };
      if (await this.conditionalPut(checkpointItem(job, decision.write, rev + 1), condition)) return decision.result;
    }
    throw new TransientStorageError(`dynamodb ${what} on ${pk}/${sk}: lost ${MAX_RACE_ATTEMPTS} races in a row`);
  }

  private async read(pk: string, sk: string): Promise<Item | null> {
    const out = await attempt('dynamodb', `GetItem ${pk}/${sk}`, () =>
      this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: pk }, sk: { S: sk } }, ConsistentRead: true })),
    );
    return out.Item ?? null;
  }

  /**
   * PutItem under a condition; false when the condition did not hold — unless the item there
   * ours: the SDK retried a write whose response was lost and the retry's condition failed on
   * our own write. Every item carries `w`, unique per write, so an item with our `w` is this
   * write — and an equal record written by someone else is not.
   */
  private async conditionalPut(
    item: Item,
    condition: { ConditionExpression: string; ExpressionAttributeNames?: Record<string, string> | undefined; ExpressionAttributeValues?: Item },
  ): Promise<boolean> {
    try {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: item, ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...condition }));
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return sameItem((e as { Item?: Item }).Item, item);
      const key = `${item.pk!.S}/${item.sk!.S}`;
      throw translateError('dynamodb', `PutItem ${key}`, e, { key, bytes: Buffer.byteLength(item.record?.S ?? ''), limit: DYNAMODB_ITEM_LIMIT });
    }
  }
}

function checkpointItem(job: string, record: CheckpointRecord, rev: number): Item {
  return {
    pk: { S: tableKeys.jobPk(job as JobName) },
    sk: { S: tableKeys.checkpointSk(record.id) },
    status: { S: record.status },
    rev: { N: String(rev) },
    record: { S: JSON.stringify(record) },
    w: { S: randomUUID() },
  };
}

/** The stored item is the one written (same per-write `w`). */
const sameItem = (stored: Item | undefined, written: Item) => stored?.w?.S !== undefined && stored.w.S === written.w?.S;

const parseCheckpoint = (item: Item) => JSON.parse(item.record!.S!) as CheckpointRecord;

