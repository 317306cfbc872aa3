/**
 * The AWS adapters on the emulator the global setup started: the port contracts the memory
 * adapters pass, then what only the AWS edge has (error translation, S3's conditional put,
 * DynamoDB's item limit, request counting, provisioning).
 */
import { stagesOf } from '../../lib/core/checkpoint-acks.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, inject, it } from 'vitest';
import { awsPorts, DYNAMODB_ITEM_LIMIT, STATE_MAX_ITEM_BYTES, type AwsPorts } from '../../lib/adapters/aws/index.js';
import { createClients } from '../../lib/adapters/aws/clients.js';
import type { AwsConfig } from '../../lib/adapters/aws/config.js';
import { AwsRequestError } from '../../lib/adapters/aws/errors.js';
import { S3BlobStore } from '../../lib/adapters/aws/s3-blob-store.js';
import { SqsQueue } from '../../lib/adapters/aws/sqs-queue.js';
import { ItemTooLargeError, TransientStorageError } from '../../lib/core/errors.js';
import { checkpointId, generation, type SubtaskKey } from '../../lib/core/ids.js';
import { newCheckpointRecord } from '../../lib/core/manifest.js';
import type { StageTopology, Topology } from '../../lib/core/topology.js';
import { provisionJob } from '../../local/provision.js';
import { queueContract } from '../contracts/queue-contract.js';
import { blobStoreContract, manifestContract, stateStoreContract } from '../contracts/store-contracts.js';

let unique = 0;
const name = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++unique}`;

/** A one-stage topology with fresh names: what provisioning reads. */
function freshTopology(): Topology {
  const job = name('j');
  const stage = { id: 'op', queue: `${job}-op.fifo`, deadLetterQueue: `${job}-op-dlq.fifo` } as unknown as StageTopology;
  return { job, maxParallelism: 8, stages: [stage], resources: { table: `${job}-t`, bucket: `b${job}`.toLowerCase(), timerQueue: `${job}-timer` } } as unknown as Topology;
}

const configFor = (t: Topology, extra: Partial<AwsConfig> = {}): AwsConfig => ({
  region: 'us-east-1',
  endpoint: inject('awsEndpoint'),
  table: t.resources.table,
  bucket: t.resources.bucket,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  ...extra,
});

async function freshPorts(options = { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 }): Promise<{ topology: Topology; ports: AwsPorts; config: AwsConfig }> {
  const topology = freshTopology();
  const config = configFor(topology);
  await provisionJob(topology, config, options);
  return { topology, ports: awsPorts(config), config };
}

/** An SDK-shaped error, as the SDK throws it, from a middleware that answers before any request. */
function failing<T extends SQSClient | S3Client>(client: T, error: () => unknown, times = Infinity): T {
  let left = times;
  (client.middlewareStack as SQSClient['middlewareStack']).add((next) => async (args) => {
    if (left-- > 0) throw error();
    return next(args);
  }, { step: 'finalizeRequest', priority: 'low' });
  return client;
}
const sdkError = (name: string, status: number, extra: object = {}) =>
  Object.assign(new Error(`${name} (simulated)`), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, ...extra });

describe('aws queue (SQS on the emulator)', () => {
  queueContract(async () => {
    const ports = awsPorts(configFor(freshTopology()));
    return {
      queue: ports.queue,
      async create({ maxReceiveCount }) {
        const { topology } = await freshPorts({ visibilityTimeoutSeconds: 30, maxReceiveCount });
        return { name: topology.stages[0]!.queue, deadLetter: topology.stages[0]!.deadLetterQueue };
      },
      // Real SQS timeouts are whole seconds: the contract's waits are short, so wait for real.
      elapse: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    };
  });

  it('delays messages on a standard queue and reports queue depth', async () => {
    const { topology, ports } = await freshPorts();
    const timer = topology.resources.timerQueue;
    expect(await ports.queue.sendBatch(timer, [{ group: 'ignored', dedupId: 'ignored', body: 'tick', delaySeconds: 1 }])).toEqual({ failed: [] });
    expect(await ports.queue.receive(timer, { max: 10, visibilityTimeoutMs: 1000 })).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const [m] = await ports.queue.receive(timer, { max: 10, visibilityTimeoutMs: 5000 });
    expect(m?.body).toBe('tick');
    expect(await ports.queue.depth(timer)).toEqual({ visible: 0, inFlight: 1 });
    await ports.queue.delete(timer, [m!.receiptHandle]);
    expect(await ports.queue.depth(timer)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('returns the entries SQS failed for its own reasons, and refuses to retry invalid ones', async () => {
    const { config, topology } = await freshPorts();
    const answer = (failed: object[]) => {
      const sqs = createClients(config, { sqs: {}, s3: {}, dynamodb: {}, kinesis: {} }).sqs;
      sqs.middlewareStack.add(() => async () => ({ output: { Successful: [], Failed: failed, $metadata: {} }, response: {} }), { step: 'finalizeRequest', priority: 'low' });
      return new SqsQueue(sqs);
    };
    const batch = [0, 1, 2].map((n) => ({ group: 'g', dedupId: `d${n}`, body: `b${n}` }));
    const queue = topology.stages[0]!.queue;
    const internal = { Code: 'InternalError', SenderFault: false };
    expect(await answer([{ Id: '2', ...internal }, { Id: '1', ...internal }]).sendBatch(queue, batch)).toEqual({ failed: [1, 2] });
    const refused = await answer([{ Id: '1', Code: 'InvalidMessageContents', SenderFault: true }]).sendBatch(queue, batch).catch((e) => e);
    expect(refused).toBeInstanceOf(AwsRequestError);
    expect(refused.awsCode).toBe('InvalidMessageContents');
  });
});

describe('aws blob store (S3 on the emulator)', () => {
  blobStoreContract(async () => (await freshPorts()).ports.blobs);

  it('lists and deletes more than one page of keys', async () => {
    const { ports } = await freshPorts();
    const keys = Array.from({ length: 1005 }, (_, i) => `p/${String(i).padStart(5, '0')}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => ports.blobs.put(k, k)));
    expect(await ports.blobs.list('p/')).toEqual(keys);
    await ports.blobs.delete(keys.slice(0, 1001));
    expect(await ports.blobs.list('p/')).toEqual(keys.slice(1001));
    expect(ports.requests.s3.DeleteObjects).toBe(2);
  });

  it('a conditional put that meets a concurrent write (409) looks again before answering', async () => {
    const { config } = await freshPorts();
    const conflict = () => sdkError('ConditionalRequestConflict', 409);
    const fresh = new S3BlobStore(failing(createClients(config, { sqs: {}, s3: {}, dynamodb: {}, kinesis: {} }).s3, conflict, 1), config.bucket);
    expect(await fresh.put('c/new', 'mine', { ifAbsent: true })).toBe(true); // nobody wrote it: tried again
    const plain = new S3BlobStore(createClients(config, { sqs: {}, s3: {}, dynamodb: {}, kinesis: {} }).s3, config.bucket);
    await plain.put('c/taken', 'theirs');
    const raced = new S3BlobStore(failing(createClients(config, { sqs: {}, s3: {}, dynamodb: {}, kinesis: {} }).s3, conflict, 1), config.bucket);
    expect(await raced.put('c/taken', 'mine', { ifAbsent: true })).toBe(false);
    expect(await plain.get('c/taken')).toBe('theirs');
  });
});

describe('aws state store (DynamoDB on the emulator)', () => {
  stateStoreContract(async () => (await freshPorts()).ports.state);

  it('stores items up to the limit and refuses larger ones before sending them', async () => {
    const { ports } = await freshPorts();
    const ref = { stage: 'op' as never, index: 0 };
    expect(ports.state.maxItemBytes).toBeLessThan(DYNAMODB_ITEM_LIMIT);
    const atMax = 'x'.repeat(STATE_MAX_ITEM_BYTES);
    await ports.state.put('job', ref, { version: { gen: generation(1), ver: 0 }, kind: 'b', body: atMax });
    // 2 bytes each in UTF-8; 10 KB under the limit, where every emulator accepts it too
    const nearHardLimit = 'é'.repeat((DYNAMODB_ITEM_LIMIT - 10_000) / 2);
    expect(await ports.state.putIfAbsent('job', ref, { version: { gen: generation(1), ver: 1 }, kind: 'd', body: nearHardLimit })).toBe(true);
    expect((await ports.state.readToBase('job', ref)).map((i) => i.body.length)).toEqual([nearHardLimit.length, atMax.length]);
    const before = ports.requests.dynamodb.PutItem;
    const tooBig = 'é'.repeat(DYNAMODB_ITEM_LIMIT / 2);
    const error = await ports.state.put('job', ref, { version: { gen: generation(1), ver: 2 }, kind: 'd', body: tooBig }).catch((e) => e);
    expect(error).toBeInstanceOf(ItemTooLargeError);
    expect(error.bytes).toBeGreaterThan(DYNAMODB_ITEM_LIMIT);
    expect(ports.requests.dynamodb.PutItem).toBe(before);
  });

  it('deletes older items across pages, keeping the given version and newer', async () => {
    const { ports } = await freshPorts();
    const ref = { stage: 'op' as never, index: 3 };
    const body = 'y'.repeat(20_000); // 60 items of 20 KB: more than one 1 MB query page
    for (let ver = 0; ver < 60; ver++) await ports.state.put('job', ref, { version: { gen: generation(1), ver }, kind: ver % 10 ? 'd' : 'b', body });
    await ports.state.deleteBefore('job', ref, { gen: generation(1), ver: 50 });
    expect((await ports.state.readToBase('job', ref)).map((i) => i.version.ver)).toEqual([59, 58, 57, 56, 55, 54, 53, 52, 51, 50]);
    await ports.state.deleteBefore('job', ref, { gen: generation(2), ver: 0 });
    expect(await ports.state.latest('job', ref)).toBeNull();
  });
});

describe('aws manifest store (DynamoDB on the emulator)', () => {
  manifestContract(async () => (await freshPorts()).ports.manifest);

  it('lists checkpoints newest first across pages, with a limit', async () => {
    const { ports } = await freshPorts();
    const expected = Array.from({ length: 2000 }, (_, i) => `a-long-stage-name/${i}` as SubtaskKey); // ~60 KB items
    for (let id = 1; id <= 25; id++) {
      await ports.manifest.createCheckpoint('job', newCheckpointRecord({ id: checkpointId(id), gen: generation(1), stages: stagesOf(expected), now: id, savepoint: null, activity: 0 }));
    }
    expect((await ports.manifest.listCheckpoints('job')).map((c) => c.id)).toEqual(Array.from({ length: 25 }, (_, i) => 25 - i));
    expect((await ports.manifest.listCheckpoints('job', { limit: 3 })).map((c) => c.id)).toEqual([25, 24, 23]);
  });

  it("translates DynamoDB's refusal of an oversized item into ItemTooLargeError (a checkpoint of 20,000 subtasks is no such item)", async () => {
    const { ports } = await freshPorts();
    const expected = Array.from({ length: 20_000 }, (_, i) => `a-long-stage-name/${i}` as SubtaskKey);
    const record = newCheckpointRecord({ id: checkpointId(1), gen: generation(1), stages: stagesOf(expected), now: 0, savepoint: null, activity: 0 });
    expect(await ports.manifest.createCheckpoint('job', record)).toBe(true);
    const oversized = { ...record, id: checkpointId(2), savepoint: 'x'.repeat(500 * 1024) };
    const error = await ports.manifest.createCheckpoint('job', oversized).catch((e) => e);
    expect(error).toBeInstanceOf(ItemTooLargeError);
    expect(error.cause?.name).toBe('ValidationException');
  });
});

describe('aws edge: errors, request counts, provisioning', () => {
  it('turns throttling and network failures into TransientStorageError, keeping the cause', async () => {
    const { config, topology } = await freshPorts();
    const throttled = sdkError('ThrottlingException', 400, { $retryable: { throttling: true } });
    const sqs = failing(createClients({ ...config, maxAttempts: 1 }, { sqs: {}, s3: {}, dynamodb: {}, kinesis: {} }).sqs, () => throttled);
    const error = await new SqsQueue(sqs).depth(topology.stages[0]!.queue).catch((e) => e);
    expect(error).toBeInstanceOf(TransientStorageError);
    expect(error.cause).toBe(throttled);

    const server = sdkError('InternalError', 500);
    const s3 = failing(createClients({ ...config, maxAttempts: 1 }, { sqs: {}, s3: {}, dynamodb: {}, kinesis: {} }).s3, () => server);
    expect(await new S3BlobStore(s3, config.bucket).get('k').catch((e) => e)).toBeInstanceOf(TransientStorageError);

    // Nothing listens on port 1: the connection is refused.
    const down = awsPorts({ ...config, endpoint: 'http://127.0.0.1:1', maxAttempts: 1 });
    const refused = await down.state.latest('job', { stage: 'op' as never, index: 0 }).catch((e) => e);
    expect(refused).toBeInstanceOf(TransientStorageError);
    expect(refused.cause).toBeDefined();
  });

  it('names the call and the AWS code of anything else', async () => {
    const { ports } = await freshPorts();
    const error = await ports.queue.depth('no-such-queue.fifo').catch((e) => e);
    expect(error).toBeInstanceOf(AwsRequestError);
    expect(error.message).toContain('GetQueueUrl no-such-queue.fifo');
    expect(error.cause).toBeDefined();
  });

  it('counts every request by service and operation', async () => {
    const { ports, topology } = await freshPorts();
    const queue = topology.stages[0]!.queue;
    await ports.queue.sendBatch(queue, [{ group: '0', dedupId: 'd1', body: 'x' }]);
    await ports.queue.sendBatch(queue, [{ group: '0', dedupId: 'd2', body: 'y' }]);
    await ports.blobs.put('k', 'v', { ifAbsent: true });
    await ports.blobs.get('k');
    await ports.manifest.getJob('job');
    await expect(ports.streams.listShards('no-such-stream')).rejects.toThrow();
    expect(ports.requests).toEqual({
      sqs: { GetQueueUrl: 1, SendMessageBatch: 2 },
      s3: { PutObject: 1, GetObject: 1 },
      dynamodb: { GetItem: 1 },
      kinesis: { ListShards: 1 },
    });
  });

  it('provisions idempotently and brings existing queues to the requested settings', async () => {
    const topology = freshTopology();
    const config = configFor(topology);
    await provisionJob(topology, config, { visibilityTimeoutSeconds: 30, maxReceiveCount: 3 });
    await provisionJob(topology, config, { visibilityTimeoutSeconds: 30, maxReceiveCount: 3 });
    await provisionJob(topology, config, { visibilityTimeoutSeconds: 45, maxReceiveCount: 4 });
    const sqs = new SQSClient({ region: config.region, endpoint: config.endpoint!, credentials: config.credentials! });
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: topology.stages[0]!.queue }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    expect(Attributes?.VisibilityTimeout).toBe('45');
    expect(Attributes?.FifoQueue).toBe('true');
    expect(Attributes?.ContentBasedDeduplication).toBe('false');
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toMatchObject({ maxReceiveCount: 4 });
    sqs.destroy();
  });
});
