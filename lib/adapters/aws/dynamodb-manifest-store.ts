/**
 * ManifestStore port on the job's DynamoDB table: the job item (pk `tableKeys.jobPk`, sk
 * `tableKeys.jobSk`, the record as a JSON attribute `record` and its `version`), one item per
 * checkpoint (sk `tableKeys.checkpointSk`) and one per acknowledgement (sk `tableKeys.ackSk`),
 * in the format of core/wire/manifest-items.
 *
 * What must hold:
 * - `putJob` writes only over the version read (or only when absent) and stores version + 1;
 * - a checkpoint item has a fixed size; every transition of it is ONE conditional UpdateItem of
 *   the attributes it changes (no read first): abort and completion only from PENDING (so they
 *   exclude each other and acks racing them), discard only from COMPLETED, flags and committed
 *   sinks set-like. Acks: dynamodb-acks.ts, then the completion of core/checkpoint-acks;
 * - a writer whose response was lost recognises its own write: each write stores a unique id
 *   (`w` at creation, `endedBy` for abort/completion, `discardedBy`) that the condition
 *   failure's old item shows;
 * - every read is strongly consistent.
 */
import {
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { awaitsCompletion, expectedCount, settledAck } from '../../core/checkpoint-acks.js';
import { TransientStorageError } from '../../core/errors.js';
import type { CheckpointId, JobName, SubtaskKey } from '../../core/ids.js';
import {
  abortedTombstone,
  type AckInfo,
  type AckOutcome,
  type CheckpointAcks,
  type CheckpointFailureReason,
  type CheckpointRecord,
  type JobRecord,
} from '../../core/manifest.js';
import { checkpointItemFields as F } from '../../core/wire/manifest-items.js';
import { tableKeys } from '../../core/wire/storage-keys.js';
import type { ManifestStore } from '../../ports/manifest-store.js';
import { backoff, countAck, deleteAcks, queryPrefix } from './dynamodb-acks.js';
import { checkpointItem, checkpointKey, parseAckItems, parseCheckpointItem, type Item } from './dynamodb-checkpoint-items.js';
import { DYNAMODB_ITEM_LIMIT } from './dynamodb-state-store.js';
import { attempt, awsCode, isConditionFailed, translateError } from './errors.js';

const MAX_CONFLICT_ATTEMPTS = 40;

/** An update's outcome: the item after it, or the item (if any) its condition failed on. */
type Updated = { readonly ok: true; readonly item: Item } | { readonly ok: false; readonly old: Item | undefined };

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
    return item ? parseCheckpointItem(item) : null;
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
      out.push(...(page.Items ?? []).map(parseCheckpointItem));
      start = page.LastEvaluatedKey;
    } while (start);
    return options.limit === undefined ? out : out.slice(0, options.limit);
  }

  async listAcks(job: string, id: CheckpointId): Promise<CheckpointAcks> {
    return parseAckItems(await queryPrefix(this.client, this.table, job, tableKeys.ackSkPrefix(id)));
  }

  createCheckpoint(job: string, record: CheckpointRecord): Promise<boolean> {
    return this.conditionalPut(checkpointItem(job, record, randomUUID()), { ConditionExpression: 'attribute_not_exists(pk)' });
  }

  async ack(job: string, id: CheckpointId, subtask: SubtaskKey, info: AckInfo, now: number): Promise<AckOutcome> {
    const counted = await countAck(this.client, this.table, job, id, subtask, info);
    if (counted.kind === 'rejected') return counted;
    const record = await this.getCheckpoint(job, id);
    if (!record) return { kind: 'rejected', status: 'MISSING' };
    if (!awaitsCompletion(record)) return settledAck(record, counted.kind === 'counted');
    // Every expected subtask is counted: complete, exactly one writer wins.
    const w = randomUUID();
    const done = await this.update(job, id, 'complete', {
      UpdateExpression: 'SET #status = :completed, #completedAt = :now, #endedBy = :w',
      ConditionExpression: '#status = :pending AND #acked = :expected',
      ExpressionAttributeNames: { '#status': F.status, '#completedAt': F.completedAt, '#endedBy': F.endedBy, '#acked': F.acked },
      ExpressionAttributeValues: { ':completed': { S: 'COMPLETED' }, ':pending': { S: 'PENDING' }, ':now': { N: String(now) }, ':w': { S: w }, ':expected': { N: String(expectedCount(record)) } },
    });
    if (done.ok) return { kind: 'completed', record: parseCheckpointItem(done.item) };
    if (done.old?.[F.endedBy]?.S === w) return { kind: 'completed', record: parseCheckpointItem(done.old) };
    return settledAck(done.old ? parseCheckpointItem(done.old) : record, counted.kind === 'counted');
  }

  async abort(job: string, id: CheckpointId, reason: CheckpointFailureReason, now: number, tombstone?: { gen: number }): Promise<boolean> {
    for (let n = 0; n < MAX_CONFLICT_ATTEMPTS; n++) {
      const w = randomUUID();
      const out = await this.update(job, id, 'abort', {
        UpdateExpression: 'SET #status = :aborted, #reason = :reason, #completedAt = :now, #endedBy = :w',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': F.status, '#reason': F.reason, '#completedAt': F.completedAt, '#endedBy': F.endedBy },
        ExpressionAttributeValues: { ':aborted': { S: 'ABORTED' }, ':pending': { S: 'PENDING' }, ':reason': { S: reason }, ':now': { N: String(now) }, ':w': { S: w } },
      });
      if (out.ok || out.old?.[F.endedBy]?.S === w) return true;
      if (out.old || !tombstone) return false;
      // No item: a tombstone, unless one was created meanwhile (then abort that one).
      if (await this.conditionalPut(checkpointItem(job, abortedTombstone(id, tombstone.gen, reason, now), w), { ConditionExpression: 'attribute_not_exists(pk)' })) return true;
    }
    throw new TransientStorageError(`dynamodb abort of ${job}/${id}: the item kept appearing and disappearing`);
  }

  async mark(job: string, id: CheckpointId, flag: 'triggersSent' | 'notified'): Promise<void> {
    await this.update(job, id, `mark ${flag}`, {
      UpdateExpression: 'SET #flag = :true',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#flag': F[flag] },
      ExpressionAttributeValues: { ':true': { BOOL: true } },
    });
  }

  async markCommitted(job: string, id: CheckpointId, subtask: SubtaskKey): Promise<void> {
    await this.update(job, id, `mark ${subtask} committed`, {
      UpdateExpression: 'ADD #committed :subtask',
      ConditionExpression: 'attribute_exists(pk)',
      ExpressionAttributeNames: { '#committed': F.committed },
      ExpressionAttributeValues: { ':subtask': { SS: [subtask] } },
    });
  }

  async discardCheckpoint(job: string, id: CheckpointId): Promise<boolean> {
    const w = randomUUID();
    const out = await this.update(job, id, 'discard', {
      UpdateExpression: 'SET #status = :discarded, #by = :w',
      ConditionExpression: '#status = :completed',
      ExpressionAttributeNames: { '#status': F.status, '#by': F.discardedBy },
      ExpressionAttributeValues: { ':discarded': { S: 'DISCARDED' }, ':completed': { S: 'COMPLETED' }, ':w': { S: w } },
    });
    return out.ok || out.old?.[F.discardedBy]?.S === w;
  }

  async deleteCheckpoint(job: string, id: CheckpointId): Promise<void> {
    await deleteAcks(this.client, this.table, job, id);
    const key = checkpointKey(job, id);
    await attempt('dynamodb', `DeleteItem ${key.pk!.S}/${key.sk!.S}`, () => this.client.send(new DeleteItemCommand({ TableName: this.table, Key: key })));
  }

  /** One conditional UpdateItem of a checkpoint item, again while it conflicts with an ack transaction in flight. */
  private async update(job: string, id: CheckpointId, what: string, input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>): Promise<Updated> {
    const command = new UpdateItemCommand({ TableName: this.table, Key: checkpointKey(job, id), ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...input });
    for (let n = 0; n < MAX_CONFLICT_ATTEMPTS; n++) {
      if (n > 0) await backoff(n);
      try {
        const out = await this.client.send(command);
        return { ok: true, item: out.Attributes ?? {} };
      } catch (e) {
        if (isConditionFailed(e)) return { ok: false, old: (e as { Item?: Item }).Item };
        if (awsCode(e) !== 'TransactionConflictException') throw translateError('dynamodb', `UpdateItem ${what} of ${job}/${id}`, e);
      }
    }
    throw new TransientStorageError(`dynamodb ${what} of ${job}/${id}: ${MAX_CONFLICT_ATTEMPTS} conflicts with transactions in a row`);
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
   * our own write. Every such item carries `w`, unique per write, so an item with our `w` is
   * this write — and an equal record written by someone else is not.
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

/** The stored item is the one written (same per-write `w`). */
const sameItem = (stored: Item | undefined, written: Item) => stored?.w?.S !== undefined && stored.w.S === written.w?.S;
