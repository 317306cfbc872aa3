/**
 * StateStore port on the job's DynamoDB table: one partition per subtask (pk
 * `tableKeys.statePk`), one item per version and kind (sk `tableKeys.stateSk`, zero-padded so
 * the sort key order is the version order), the body in a string attribute.
 *
 * What must hold: every read is strongly consistent; `putIfAbsent` is one conditional PutItem
 * (`attribute_not_exists(pk)`), which is what makes a commit conditional on the version read;
 * an item DynamoDB would refuse (over 400 KB as it counts) is refused here first with
 * `ItemTooLargeError`, and DynamoDB's own refusal is translated to the same error.
 * `maxItemBytes` is what the runtime aims under: it keeps a margin below the hard limit for
 * its estimate of the size.
 */
import {
  BatchWriteItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
  type QueryCommandOutput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { ItemTooLargeError, TransientStorageError } from '../../core/errors.js';
import type { JobName, SubtaskRef } from '../../core/ids.js';
import { tableKeys, type StateVersion } from '../../core/wire/storage-keys.js';
import type { StateItem, StateStore } from '../../ports/state-store.js';
import { attempt, isConditionFailed, translateError } from './errors.js';

/** DynamoDB's item size limit (attribute names plus values, UTF-8). Emulators cut off near it
 *  too; any refusal is translated to the same ItemTooLargeError. */
export const DYNAMODB_ITEM_LIMIT = 400 * 1024;
/** What the runtime is told to stay under: the hard limit less a margin for its estimate. */
export const STATE_MAX_ITEM_BYTES = 350 * 1024;
const BATCH_WRITE_LIMIT = 25;
const UNPROCESSED_ATTEMPTS = 8;

type Item = Record<string, AttributeValue>;

export class DynamoDbStateStore implements StateStore {
  readonly maxItemBytes = STATE_MAX_ITEM_BYTES;

  constructor(
    private readonly client: DynamoDBClient,
    readonly table: string,
  ) {}

  async latest(job: string, ref: SubtaskRef): Promise<{ version: StateVersion; kind: 'b' | 'd' } | null> {
    const out = await this.query(job, ref, { Limit: 1, ProjectionExpression: 'sk' }, undefined);
    const sk = out.Items?.[0]?.sk?.S;
    return sk ? tableKeys.parseStateSk(sk) : null;
  }

  async readToBase(job: string, ref: SubtaskRef): Promise<StateItem[]> {
    const items: StateItem[] = [];
    let start: Item | undefined;
    // Pages grow: usually the base is a few items down, and a page reads no further than it asks.
    for (let limit = 8; ; limit = Math.min(limit * 4, 512)) {
      const out = await this.query(job, ref, { Limit: limit }, start);
      for (const raw of out.Items ?? []) {
        const { version, kind } = tableKeys.parseStateSk(raw.sk!.S!);
        items.push({ version, kind, body: raw.body?.S ?? '' });
        if (kind === 'b') return items;
      }
      start = out.LastEvaluatedKey;
      if (!start) return items;
    }
  }

  /**
   * True when the item is ours: written now, or found carrying this write's `w` — the SDK
   * retried a write whose response was lost, and the retry's condition failed on our own
   * item. Taking that for a lost race would delete the spilled blobs the item points at.
   */
  async putIfAbsent(job: string, ref: SubtaskRef, item: StateItem): Promise<boolean> {
    const record = this.item(job, ref, item);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: record.item,
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return (e as { Item?: Item }).Item?.w?.S === record.item.w!.S;
      throw translateError('dynamodb', `PutItem ${record.key} (if absent)`, e, record.size);
    }
  }

  async put(job: string, ref: SubtaskRef, item: StateItem): Promise<void> {
    const record = this.item(job, ref, item);
    try {
      await this.client.send(new PutItemCommand({ TableName: this.table, Item: record.item }));
    } catch (e) {
      throw translateError('dynamodb', `PutItem ${record.key}`, e, record.size);
    }
  }

  async deleteBefore(job: string, ref: SubtaskRef, version: StateVersion): Promise<void> {
    // Every item of an older version sorts before the base key of `version` ('b' < 'd').
    const bound = tableKeys.stateSk(version, 'b');
    const pk = tableKeys.statePk(job as JobName, ref);
    let start: Item | undefined;
    do {
      const out = await attempt('dynamodb', `Query ${pk} (older than ${bound})`, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk < :bound',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':bound': { S: bound } },
            ProjectionExpression: 'pk, sk',
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      const keys = (out.Items ?? []).map((k) => ({ DeleteRequest: { Key: { pk: k.pk!, sk: k.sk! } } }));
      for (let i = 0; i < keys.length; i += BATCH_WRITE_LIMIT) await this.batchWrite(keys.slice(i, i + BATCH_WRITE_LIMIT));
      start = out.LastEvaluatedKey;
    } while (start);
  }

  /** BatchWriteItem, sending unprocessed items again with backoff until none are left. */
  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    let pending = requests;
    for (let n = 0; pending.length > 0; n++) {
      if (n >= UNPROCESSED_ATTEMPTS) throw new TransientStorageError(`dynamodb BatchWriteItem: ${pending.length} items still unprocessed after ${n} attempts`);
      if (n > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(2000, 25 * 2 ** n) * (0.5 + Math.random())));
      const out = await attempt('dynamodb', 'BatchWriteItem', () =>
        this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.table]: pending } })),
      );
      pending = out.UnprocessedItems?.[this.table] ?? [];
    }
  }

  private query(job: string, ref: SubtaskRef, extra: { Limit: number; ProjectionExpression?: string }, start: Item | undefined): Promise<QueryCommandOutput> {
    const pk = tableKeys.statePk(job as JobName, ref);
    return attempt('dynamodb', `Query ${pk}`, () =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: tableKeys.stateSkPrefix } },
          ScanIndexForward: false,
          ConsistentRead: true,
          ...extra,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ),
    );
  }

  /** The item to write, checked against DynamoDB's limit as DynamoDB measures it. */
  private item(job: string, ref: SubtaskRef, item: StateItem): { item: Item; key: string; size: { key: string; bytes: number; limit: number } } {
    const pk = tableKeys.statePk(job as JobName, ref);
    const sk = tableKeys.stateSk(item.version, item.kind);
    const key = `${pk}/${sk}`;
    // `w` is unique per write: it tells our own item from another writer's with the same body.
    const w = randomUUID();
    const bytes = 'pk'.length + Buffer.byteLength(pk) + 'sk'.length + Buffer.byteLength(sk) + 'body'.length + Buffer.byteLength(item.body) + 'w'.length + w.length;
    if (bytes > DYNAMODB_ITEM_LIMIT) throw new ItemTooLargeError(key, bytes, DYNAMODB_ITEM_LIMIT);
    return { item: { pk: { S: pk }, sk: { S: sk }, body: { S: item.body }, w: { S: w } }, key, size: { key, bytes, limit: DYNAMODB_ITEM_LIMIT } };
  }
}
