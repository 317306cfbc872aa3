/**
 * The acknowledgement writes of the DynamoDB manifest (core/checkpoint-acks decides what they
 * mean). What must hold:
 * - counting an ack is ONE TransactWriteItems, a constant number of write units whatever the
 *   parallelism: the Put of the ack item, only if absent, and an UpdateItem adding the ack's
 *   figures to the checkpoint item's counters, only if it is PENDING and its `stages` map
 *   expects the subtask (index below the stage's parallelism). A duplicate fails the Put and
 *   is never counted twice; an ack to a checkpoint not pending fails the update;
 * - transactions that conflict on the checkpoint item (other acks in flight) are retried here
 *   with backoff; the idempotency token makes an SDK retry of a landed transaction a no-op;
 * - reading and deleting the ack items of a checkpoint is a paged Query on its sort-key prefix.
 */
import {
  BatchWriteItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { randomUUID } from 'node:crypto';
import { ackIncrements } from '../../core/checkpoint-acks.js';
import { TransientStorageError } from '../../core/errors.js';
import { parseSubtaskKey, type CheckpointId, type JobName, type SubtaskKey } from '../../core/ids.js';
import type { AckInfo, CheckpointStatus } from '../../core/manifest.js';
import { checkpointItemFields as F } from '../../core/wire/manifest-items.js';
import { tableKeys } from '../../core/wire/storage-keys.js';
import { ackItem, ackKey, checkpointKey, type Item } from './dynamodb-checkpoint-items.js';
import { attempt, awsCode, translateError } from './errors.js';

/** Conflicting transactions on one checkpoint item: each round some of them land. */
const MAX_CONFLICT_ATTEMPTS = 60;
const BATCH = 25;

export type CountResult = { readonly kind: 'counted' } | { readonly kind: 'duplicate' } | { readonly kind: 'rejected'; readonly status: CheckpointStatus | 'MISSING' };

interface CancellationReason {
  readonly Code?: string;
  readonly Item?: Item;
}

export const backoff = (n: number) => new Promise((resolve) => setTimeout(resolve, Math.min(200, 5 * n) * (0.5 + Math.random())));

/** Stores the ack item if absent and counts it on the checkpoint item if pending and expected. */
export async function countAck(client: DynamoDBClient, table: string, job: string, id: CheckpointId, subtask: SubtaskKey, info: AckInfo): Promise<CountResult> {
  const { stage, index } = parseSubtaskKey(subtask);
  const inc = ackIncrements(info);
  // A token per attempt: the SDK's own retries of one attempt reuse it (a landed transaction
  // whose response was lost is then a no-op), while a canceled attempt changed nothing and the
  // next is a new request — a token that had been canceled might be answered canceled again.
  const command = () => new TransactWriteItemsCommand({
    ClientRequestToken: randomUUID(),
    TransactItems: [
      { Put: { TableName: table, Item: ackItem(job, id, subtask, info), ConditionExpression: 'attribute_not_exists(pk)' } },
      {
        Update: {
          TableName: table,
          Key: checkpointKey(job, id),
          UpdateExpression: 'ADD #acked :acked, #fin :fin, #progress :progress, #bytes :bytes, #align :align SET #last = :at',
          ConditionExpression: '#status = :pending AND #stages.#stage > :index',
          ExpressionAttributeNames: {
            '#acked': F.acked, '#fin': F.finished, '#progress': F.progress, '#bytes': F.bytes, '#align': F.alignmentMs,
            '#last': F.lastAckAt, '#status': F.status, '#stages': F.stages, '#stage': stage,
          },
          ExpressionAttributeValues: {
            ':acked': { N: String(inc.acked) }, ':fin': { N: String(inc.finished) }, ':progress': { N: String(inc.progress) },
            ':bytes': { N: String(inc.bytes) }, ':align': { N: String(inc.alignmentMs) }, ':at': { N: String(info.at) },
            ':pending': { S: 'PENDING' }, ':index': { N: String(index) },
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
      },
    ],
  });
  for (let n = 0; n < MAX_CONFLICT_ATTEMPTS; n++) {
    if (n > 0) await backoff(n);
    try {
      await client.send(command());
      return { kind: 'counted' };
    } catch (e) {
      if (awsCode(e) !== 'TransactionCanceledException') throw translateError('dynamodb', `TransactWriteItems ack ${subtask} of ${id}`, e);
      const [put, update] = ((e as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? []) as (CancellationReason | undefined)[];
      if (put?.Code === 'ConditionalCheckFailed') return { kind: 'duplicate' };
      if (update?.Code === 'ConditionalCheckFailed') return { kind: 'rejected', status: (update.Item?.[F.status]?.S as CheckpointStatus | undefined) ?? 'MISSING' };
      if (![put?.Code, update?.Code].some((c) => c === 'TransactionConflict' || c === 'ThrottlingError' || c === 'ProvisionedThroughputExceeded')) {
        throw translateError('dynamodb', `TransactWriteItems ack ${subtask} of ${id}`, e);
      }
    }
  }
  throw new TransientStorageError(`dynamodb ack ${subtask} of ${job}/${id}: ${MAX_CONFLICT_ATTEMPTS} conflicting transactions in a row`);
}

/** Every item under a sort-key prefix of the job's partition, page by page. */
export async function queryPrefix(client: DynamoDBClient, table: string, job: string, prefix: string, keysOnly = false): Promise<Item[]> {
  const pk = tableKeys.jobPk(job as JobName);
  const out: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await attempt('dynamodb', `Query ${pk} ${prefix}`, () =>
      client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': { S: pk }, ':prefix': { S: prefix } },
          ConsistentRead: true,
          ...(keysOnly ? { ProjectionExpression: 'pk, sk' } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      ),
    );
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Deletes every ack item of a checkpoint, 25 to a BatchWriteItem, unprocessed ones again. */
export async function deleteAcks(client: DynamoDBClient, table: string, job: string, id: CheckpointId): Promise<void> {
  const keys = (await queryPrefix(client, table, job, tableKeys.ackSkPrefix(id), true)).map((i) => ackKey(job, id, tableKeys.subtaskOfAckSk(i.sk!.S!)));
  for (let i = 0; i < keys.length; i += BATCH) {
    let pending = keys.slice(i, i + BATCH).map((Key) => ({ DeleteRequest: { Key } }));
    for (let n = 0; pending.length > 0; n++) {
      if (n >= MAX_CONFLICT_ATTEMPTS) throw new TransientStorageError(`dynamodb BatchWriteItem: ${pending.length} ack deletions of ${job}/${id} still unprocessed`);
      if (n > 0) await backoff(n);
      const out = await attempt('dynamodb', `BatchWriteItem acks of ${id}`, () => client.send(new BatchWriteItemCommand({ RequestItems: { [table]: pending } })));
      pending = (out.UnprocessedItems?.[table] ?? []).flatMap((r) => (r.DeleteRequest?.Key ? [{ DeleteRequest: { Key: r.DeleteRequest.Key } }] : []));
    }
  }
}
