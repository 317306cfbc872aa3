/**
 * OutputTable port on the job's DynamoDB table: one item partition per sink (pk
 * `tableKeys.outputPk`), one item per record key (sk = the key itself, so a Query returns a
 * sink's rows in key order: DynamoDB orders string sort keys by their UTF-8 bytes), with the
 * attributes `value` (string) and `checkpoint` (number).
 *
 * What must hold (ports/output-table.ts, DESIGN §8):
 * - `upsert` is ONE PutItem conditioned on `attribute_not_exists(pk) OR checkpoint <= :cp`:
 *   replaying an older committed transaction can never take a value back, while a replay of
 *   the same checkpoint (a retried commit) writes again and its last write wins;
 * - every read is strongly consistent;
 * - only GetItem, PutItem and Query are sent: the roles infra/ grants allow no other
 *   DynamoDB calls (test/infra/permissions.test.ts checks it).
 */
import {
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { Buffer } from 'node:buffer';
import { ItemTooLargeError } from '../../core/errors.js';
import type { JobName } from '../../core/ids.js';
import { tableKeys } from '../../core/wire/storage-keys.js';
import type { OutputRow, OutputTable } from '../../ports/output-table.js';
import { DYNAMODB_ITEM_LIMIT } from './dynamodb-state-store.js';
import { attempt, isConditionFailed, translateError } from './errors.js';

type Item = Record<string, AttributeValue>;
/** `value` is a DynamoDB reserved word; `checkpoint` is named the same way for symmetry. */
const NAMES = { '#value': 'value', '#cp': 'checkpoint' };
/** DynamoDB stores a number in at most 21 bytes (38 significant digits). */
const NUMBER_BYTES = 21;

export class DynamoDbOutputTable implements OutputTable {
  constructor(
    private readonly client: DynamoDBClient,
    readonly table: string,
  ) {}

  async upsert(job: string, sink: string, key: string, value: string, checkpoint: number): Promise<boolean> {
    const pk = tableKeys.outputPk(job as JobName, sink);
    const id = `${pk}/${key}`;
    const item: Item = { pk: { S: pk }, sk: { S: key }, value: { S: value }, checkpoint: { N: String(checkpoint) } };
    const bytes = ['pk', pk, 'sk', key, 'value', value, 'checkpoint'].reduce((n, s) => n + Buffer.byteLength(s), 0) + NUMBER_BYTES;
    if (bytes > DYNAMODB_ITEM_LIMIT) throw new ItemTooLargeError(id, bytes, DYNAMODB_ITEM_LIMIT);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR #cp <= :cp',
          ExpressionAttributeNames: { '#cp': NAMES['#cp'] },
          ExpressionAttributeValues: { ':cp': { N: String(checkpoint) } },
        }),
      );
      return true;
    } catch (e) {
      // A later checkpoint wrote this key: the row stays as it is.
      if (isConditionFailed(e)) return false;
      throw translateError('dynamodb', `PutItem ${id} (checkpoint ${checkpoint})`, e, { key: id, bytes, limit: DYNAMODB_ITEM_LIMIT });
    }
  }

  async get(job: string, sink: string, key: string): Promise<OutputRow | null> {
    const pk = tableKeys.outputPk(job as JobName, sink);
    const out = await attempt('dynamodb', `GetItem ${pk}/${key}`, () =>
      this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: { pk: { S: pk }, sk: { S: key } },
          ConsistentRead: true,
          ExpressionAttributeNames: { ...NAMES, '#sk': 'sk' },
          ProjectionExpression: '#sk, #value, #cp',
        }),
      ),
    );
    return out.Item ? row(out.Item) : null;
  }

  async scan(job: string, sink: string): Promise<OutputRow[]> {
    const pk = tableKeys.outputPk(job as JobName, sink);
    const rows: OutputRow[] = [];
    let start: Item | undefined;
    do {
      const page = await attempt('dynamodb', `Query ${pk}`, () =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': { S: pk } },
            ExpressionAttributeNames: { ...NAMES, '#sk': 'sk' },
            ProjectionExpression: '#sk, #value, #cp',
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      rows.push(...(page.Items ?? []).map(row));
      start = page.LastEvaluatedKey;
    } while (start);
    return rows;
  }
}

const row = (item: Item): OutputRow => ({ key: item.sk!.S!, value: item.value?.S ?? '', checkpoint: Number(item.checkpoint!.N) });
