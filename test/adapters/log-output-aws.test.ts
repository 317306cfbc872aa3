/**
 * The DynamoDB log store and output table on the emulator the global setup started: the
 * contracts the memory adapters pass, then what only the AWS edge has (a claim whose response
 * was lost, error translation, the item limit, how many requests each call costs).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { awsPorts, DYNAMODB_ITEM_LIMIT, type AwsConfig } from '../../lib/adapters/aws/index.js';
import { createClients, type RequestCounts } from '../../lib/adapters/aws/clients.js';
import { DynamoDbLogStore } from '../../lib/adapters/aws/dynamodb-log-store.js';
import { DynamoDbOutputTable } from '../../lib/adapters/aws/dynamodb-output-table.js';
import { ItemTooLargeError, TransientStorageError } from '../../lib/core/errors.js';
import { provisionedAdapterJob, uniqueJobName as name } from '../support/emulator-world.js';
import { logStoreContract, outputTableContract } from '../contracts/log-and-output-contracts.js';

/** One table for the file: the contracts use fresh job names, so tests share it safely. */
let config: AwsConfig;
beforeAll(async () => {
  ({ config } = await provisionedAdapterJob('lo'));
});

const counted = (): RequestCounts => ({ sqs: {}, s3: {}, dynamodb: {}, kinesis: {} });

/** A DynamoDB client whose first `times` attempts (of `only` that command) fail with `error`, before or after AWS saw them. */
function failing(error: () => unknown, options: { times?: number; afterSending?: boolean; maxAttempts?: number; only?: string } = {}): DynamoDBClient {
  const client = createClients({ ...config, ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}) }, counted()).dynamodb;
  let left = options.times ?? Infinity;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (options.only && context.commandName !== `${options.only}Command`) return next(args);
      if (!options.afterSending && left-- > 0) throw error();
      const out = await next(args);
      if (options.afterSending && left-- > 0) throw error();
      return out;
    },
    { step: 'finalizeRequest', priority: 'low' },
  );
  return client;
}
const sdkError = (name: string, status: number) =>
  Object.assign(new Error(`${name} (simulated)`), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });

describe('aws log store (DynamoDB on the emulator)', () => {
  logStoreContract(async () => awsPorts(config).logs);

  it('appenders in separate processes (separate clients) share one gap-free sequence', async () => {
    const job = name('j');
    const stores = [1, 2, 3, 4].map(() => awsPorts(config).logs);
    const results = await Promise.all(stores.map((s, n) => s.append(job, 'events', 0, Array.from({ length: 10 }, (_, i) => `${n}.${i}`))));
    expect(results.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(await stores[0]!.head(job, 'events', 0)).toBe(40);
  });

  it('a claim that landed but whose response was lost is not written twice', async () => {
    const job = name('j');
    // The first PutItem reaches the table, then fails as a lost response would; the SDK retries it.
    const logs = new DynamoDbLogStore(failing(() => sdkError('InternalServerError', 500), { times: 1, afterSending: true, only: 'PutItem' }), config.table);
    const plain = awsPorts(config).logs;
    await plain.append(job, 'events', 0, ['before']);
    expect(await logs.append(job, 'events', 0, ['once', 'next'])).toEqual([1, 2]);
    expect((await plain.read(job, 'events', 0, 0, 10, 10)).map((e) => e.value)).toEqual(['before', 'once', 'next']);
  });

  it('costs one Query and one PutItem per value when uncontended', async () => {
    const ports = awsPorts(config);
    await ports.logs.append(name('j'), 'events', 0, ['a', 'b', 'c']);
    expect(ports.requests.dynamodb).toEqual({ Query: 1, PutItem: 3 });
  });

  it('refuses an over-size value before writing any of the batch', async () => {
    const job = name('j');
    const logs = awsPorts(config).logs;
    await expect(logs.append(job, 'events', 0, ['small', 'x'.repeat(DYNAMODB_ITEM_LIMIT)])).rejects.toBeInstanceOf(ItemTooLargeError);
    expect(await logs.head(job, 'events', 0)).toBe(0);
  });

  it('throttling becomes a TransientStorageError that keeps its cause', async () => {
    const logs = new DynamoDbLogStore(failing(() => sdkError('ThrottlingException', 400), { maxAttempts: 1 }), config.table);
    for (const call of [() => logs.append('j', 'l', 0, ['v']), () => logs.read('j', 'l', 0, 0, 5, 5), () => logs.head('j', 'l', 0)]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientStorageError);
      expect((error as Error).cause).toMatchObject({ name: 'ThrottlingException' });
    }
  });
});

describe('aws output table (DynamoDB on the emulator)', () => {
  outputTableContract(async () => awsPorts(config).outputs);

  it('an upsert is one PutItem, refused or not', async () => {
    const ports = awsPorts(config);
    const job = name('j');
    expect(await ports.outputs.upsert(job, 's', 'k', 'v', 2)).toBe(true);
    expect(await ports.outputs.upsert(job, 's', 'k', 'old', 1)).toBe(false);
    expect(ports.requests.dynamodb).toEqual({ PutItem: 2 });
  });

  it('refuses an over-size row; a 5xx becomes a TransientStorageError that keeps its cause', async () => {
    const job = name('j');
    await expect(awsPorts(config).outputs.upsert(job, 's', 'k', 'x'.repeat(DYNAMODB_ITEM_LIMIT), 1)).rejects.toBeInstanceOf(ItemTooLargeError);
    const out = new DynamoDbOutputTable(failing(() => sdkError('InternalServerError', 500), { maxAttempts: 1 }), config.table);
    for (const call of [() => out.upsert(job, 's', 'k', 'v', 1), () => out.get(job, 's', 'k'), () => out.scan(job, 's')]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientStorageError);
      expect((error as Error).cause).toMatchObject({ name: 'InternalServerError' });
    }
  });
});
