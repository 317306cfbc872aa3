/**
 * LogStore port on the job's DynamoDB table: one item partition per log partition (pk
 * `tableKeys.logPk`), one item per record (sk `tableKeys.logSk(offset)`, zero-padded so sort
 * key order is offset order), the record in the string attribute `value`.
 *
 * What must hold (ports/log-store.ts):
 * - no gaps: an offset is only ever claimed when every offset below it exists, either at the
 *   head just read with a consistent Query or right after our own previous claim. A claim is
 *   one PutItem conditioned on `attribute_not_exists(pk)`, so of racing appenders exactly one
 *   gets each offset; a loser re-reads the head and claims again (bounded, then a
 *   TransientStorageError). Claims are sequential: claiming ahead in parallel could leave a
 *   hole if one claim failed and a later one did not;
 * - a record never changes once written: nothing here overwrites or deletes;
 * - an SDK retry of a claim whose first attempt did land must not write the value twice: each
 *   claim carries a `claim` token, and a condition failure that finds our own token is our
 *   claim. (An append that throws may still have written a prefix of its values.)
 * - reads are strongly consistent.
 */
import {
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { InvariantError, ItemTooLargeError, TransientStorageError } from '../../core/errors.js';
import type { JobName } from '../../core/ids.js';
import { tableKeys } from '../../core/wire/storage-keys.js';
import type { LogEntry, LogStore } from '../../ports/log-store.js';
import { DYNAMODB_ITEM_LIMIT } from './dynamodb-state-store.js';
import { attempt, isConditionFailed, translateError } from './errors.js';

type Item = Record<string, AttributeValue>;
/** Lost claims in a row for one value before giving up: each round some appender wins. */
const MAX_RACE_ATTEMPTS = 40;
/** The largest offset a sort key can hold (OFFSET_WIDTH digits in storage-keys). */
const MAX_OFFSET = 999_999_999_999_999;

export class DynamoDbLogStore implements LogStore {
  constructor(
    private readonly client: DynamoDBClient,
    readonly table: string,
  ) {}

  async append(job: string, log: string, partition: number, values: readonly string[]): Promise<number[]> {
    if (values.length === 0) return [];
    const pk = tableKeys.logPk(job as JobName, log, partition);
    const call = randomUUID();
    // Refuse an over-size value before writing anything, so such an append leaves no prefix behind.
    const items = values.map((value, i) => this.item(pk, value, `${call}:${i}`));
    const offsets: number[] = [];
    let next = await this.head(job, log, partition);
    for (const item of items) {
      for (let lost = 0; ; lost++) {
        if (lost >= MAX_RACE_ATTEMPTS) {
          throw new TransientStorageError(`dynamodb append to ${pk}: lost ${MAX_RACE_ATTEMPTS} claims in a row`);
        }
        if (lost > 1) await new Promise((resolve) => setTimeout(resolve, Math.min(200, 5 * lost) * (0.5 + Math.random())));
        if (await this.claim(item, next)) break;
        next = await this.head(job, log, partition);
      }
      offsets.push(next);
      next += 1;
    }
    return offsets;
  }

  async read(job: string, log: string, partition: number, from: number, below: number, max: number): Promise<LogEntry[]> {
    const first = Math.max(0, Math.ceil(from));
    const last = Math.min(MAX_OFFSET, Math.ceil(below) - 1);
    if (max <= 0 || first > last) return [];
    const pk = tableKeys.logPk(job as JobName, log, partition);
    const out: LogEntry[] = [];
    let start: Item | undefined;
    do {
      const page = await attempt('dynamodb', `Query ${pk} [${first}, ${last}]`, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :first AND :last',
            ExpressionAttributeValues: { ':pk': { S: pk }, ':first': { S: tableKeys.logSk(first) }, ':last': { S: tableKeys.logSk(last) } },
            // `value` is a DynamoDB reserved word.
            ExpressionAttributeNames: { '#value': 'value' },
            ProjectionExpression: 'sk, #value',
            ConsistentRead: true,
            Limit: Math.min(max - out.length, 1000),
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const raw of page.Items ?? []) out.push({ offset: tableKeys.logOffsetOfSk(raw.sk!.S!), value: raw.value?.S ?? '' });
      start = page.LastEvaluatedKey;
    } while (start && out.length < max);
    return out;
  }

  async head(job: string, log: string, partition: number): Promise<number> {
    const pk = tableKeys.logPk(job as JobName, log, partition);
    const page = await attempt('dynamodb', `Query ${pk} (head)`, () =>
      this.client.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
          ProjectionExpression: 'sk',
          ScanIndexForward: false,
          ConsistentRead: true,
          Limit: 1,
        }),
      ),
    );
    const sk = page.Items?.[0]?.sk?.S;
    return sk === undefined ? 0 : tableKeys.logOffsetOfSk(sk) + 1;
  }

  /** Writes `item` at `offset` if that offset is free; true when the record there is ours. */
  private async claim(item: Item, offset: number): Promise<boolean> {
    // Must hold: a log stays below 10^15 records, what its sort key can order.
    if (offset > MAX_OFFSET) throw new InvariantError(`log ${item.pk!.S} is full: offset ${offset} does not fit a sort key`);
    const sk = tableKeys.logSk(offset);
    const key = `${item.pk!.S}/${sk}`;
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { ...item, sk: { S: sk } },
          ConditionExpression: 'attribute_not_exists(pk)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return (e as { Item?: Item }).Item?.claim?.S === item.claim!.S;
      throw translateError('dynamodb', `PutItem ${key} (claim)`, e, { key, bytes: itemBytes(item), limit: DYNAMODB_ITEM_LIMIT });
    }
  }

  /** The item for one value, without its sort key; checked against DynamoDB's size limit. */
  private item(pk: string, value: string, claim: string): Item {
    const item = { pk: { S: pk }, sk: { S: tableKeys.logSk(MAX_OFFSET) }, value: { S: value }, claim: { S: claim } };
    const bytes = itemBytes(item);
    if (bytes > DYNAMODB_ITEM_LIMIT) throw new ItemTooLargeError(`${pk}/(next offset)`, bytes, DYNAMODB_ITEM_LIMIT);
    return item;
  }
}

/** Size as DynamoDB counts it: attribute names plus their (string) values, UTF-8. */
const itemBytes = (item: Item) =>
  Object.entries(item).reduce((n, [name, v]) => n + Buffer.byteLength(name) + Buffer.byteLength(v.S ?? ''), 0);
