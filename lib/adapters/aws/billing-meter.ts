/**
 * Billing units at the SDK edge (core/cost.ts says what AWS bills): one middleware per client,
 * outside the SDK's retries, that sees each call's input and its outcome (`$metadata.attempts`
 * tells how many attempts were made; each is billed).
 *
 * - SQS: the call's payload (SendMessageBatch: its entries' bodies; ReceiveMessage: the
 *   bodies returned) in 64 KiB chunks, per attempt, FIFO or standard by the queue's name.
 * - DynamoDB: every data-plane call asks for `ReturnConsumedCapacity: 'TOTAL'` and the units
 *   DynamoDB reports are taken; when none are reported (a failed conditional write, which AWS
 *   still bills; an emulator that does not report them) they are computed from the item sizes
 *   of the request (writes) or the response (reads), as core/cost.ts rules.
 * - S3: tier 1 (PutObject, ListObjectsV2, CopyObject), tier 2 (GetObject, HeadObject), free
 *   (DeleteObjects), per attempt.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { dynamodbItemBytes, dynamodbReadUnits, dynamodbWriteUnits, utf8Bytes, type AttributeLike, type Billing } from '../../core/cost.js';
import type { AwsService } from './errors.js';

type AnyClient = SQSClient | S3Client | DynamoDBClient;
type Item = Record<string, AttributeLike>;
type Input = Record<string, unknown>;
type Output = Record<string, unknown> & { $metadata?: { attempts?: number } };

const DYNAMODB_DATA_OPERATIONS = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);
const S3_TIER: Record<string, 1 | 2 | 'free'> = { PutObject: 1, CopyObject: 1, ListObjectsV2: 1, ListObjects: 1, GetObject: 2, HeadObject: 2, DeleteObjects: 'free', DeleteObject: 'free' };

export function meterBilling(client: AnyClient, service: AwsService, billing: Billing): void {
  (client.middlewareStack as SQSClient['middlewareStack']).add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      const input = args.input as Input;
      if (service === 'dynamodb' && DYNAMODB_DATA_OPERATIONS.has(operation) && input.ReturnConsumedCapacity === undefined) {
        input.ReturnConsumedCapacity = 'TOTAL';
      }
      let output: Output | null = null;
      let attempts = 1;
      try {
        const result = await next(args);
        output = result.output as Output;
        attempts = output.$metadata?.attempts ?? 1;
        return result;
      } catch (e) {
        attempts = (e as Output).$metadata?.attempts ?? 1;
        throw e;
      } finally {
        record(billing, service, operation, input, output, attempts);
      }
    },
    { step: 'initialize', priority: 'low', name: 'tidemarkBillingMeter' },
  );
}

function record(billing: Billing, service: AwsService, operation: string, input: Input, output: Output | null, attempts: number): void {
  if (service === 'sqs') {
    const queue = String(input.QueueUrl ?? input.QueueName ?? '');
    if (operation === 'SendMessageBatch' || operation === 'SendMessage') {
      const bodies = ((input.Entries as { MessageBody?: string }[] | undefined) ?? [{ MessageBody: input.MessageBody as string | undefined }]).map((e) => utf8Bytes(e.MessageBody ?? ''));
      billing.sqsBodies(bodies);
      billing.sqsCall(queue, bodies.reduce((a, b) => a + b, 0), attempts);
    } else if (operation === 'ReceiveMessage') {
      const received = ((output?.Messages as { Body?: string }[] | undefined) ?? []).reduce((n, m) => n + utf8Bytes(m.Body ?? ''), 0);
      billing.sqsCall(queue, received, attempts);
    } else billing.sqsCall(queue, 0, attempts);
    return;
  }
  if (service === 's3') {
    billing.s3Call(S3_TIER[operation] ?? 2, attempts);
    return;
  }
  if (!DYNAMODB_DATA_OPERATIONS.has(operation)) {
    billing.dynamodbCall({});
    return;
  }
  const consumed = consumedUnits(output);
  if (consumed) billing.dynamodbCall(isRead(operation) ? { read: consumed } : { write: consumed }, 'consumed-capacity');
  else billing.dynamodbCall(computedUnits(operation, input, output));
}

const isRead = (operation: string) => ['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems'].includes(operation);

/** DynamoDB's own figure: `ConsumedCapacity` (one, or one per table). */
function consumedUnits(output: Output | null): number | null {
  const c = output?.ConsumedCapacity as { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;
  if (c === undefined) return null;
  const all = Array.isArray(c) ? c : [c];
  if (all.length === 0 || all.some((x) => typeof x.CapacityUnits !== 'number')) return null;
  return all.reduce((n, x) => n + x.CapacityUnits!, 0);
}

/** Units by item size when DynamoDB reports none. */
function computedUnits(operation: string, input: Input, output: Output | null): { read?: number; write?: number } {
  const consistent = input.ConsistentRead === true;
  switch (operation) {
    case 'PutItem':
      return { write: dynamodbWriteUnits(dynamodbItemBytes(input.Item as Item)) };
    case 'UpdateItem':
    case 'DeleteItem':
      // The item's size is not in the request: its key's is the least it costs.
      return { write: dynamodbWriteUnits(dynamodbItemBytes((output?.Attributes as Item | undefined) ?? (input.Key as Item))) };
    case 'BatchWriteItem': {
      const requests = Object.values((input.RequestItems as Record<string, { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } }[]>) ?? {}).flat();
      return { write: requests.reduce((n, r) => n + dynamodbWriteUnits(dynamodbItemBytes(r.PutRequest?.Item ?? r.DeleteRequest?.Key ?? {})), 0) };
    }
    case 'TransactWriteItems': {
      const items = (input.TransactItems as { Put?: { Item: Item }; Update?: { Key: Item }; Delete?: { Key: Item }; ConditionCheck?: { Key: Item } }[]) ?? [];
      return { write: items.reduce((n, t) => n + dynamodbWriteUnits(dynamodbItemBytes(t.Put?.Item ?? t.Update?.Key ?? t.Delete?.Key ?? t.ConditionCheck?.Key ?? {}), { transactional: true }), 0) };
    }
    case 'GetItem':
      return { read: dynamodbReadUnits(output?.Item ? dynamodbItemBytes(output.Item as Item) : 0, { consistent }) };
    case 'Query':
    case 'Scan': {
      const items = (output?.Items as Item[] | undefined) ?? [];
      return { read: dynamodbReadUnits(items.reduce((n, i) => n + dynamodbItemBytes(i), 0), { consistent }) };
    }
    default:
      return { read: 1 };
  }
}
