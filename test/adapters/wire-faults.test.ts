/**
 * The AWS edge under faults on the wire: the SDK retries what errors.ts calls transient
 * (SQS's legacy throttling code included), and wire-fault injection throttles, fails, delays
 * and loses responses per attempt — reproducibly from a seed, retried by the SDK, counted.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createClients, type RequestCounts } from '../../lib/adapters/aws/clients.js';
import type { AwsConfig } from '../../lib/adapters/aws/config.js';
import { awsPorts } from '../../lib/adapters/aws/index.js';
import { wireFaultPlan, zeroWireFaultCounts, type WireFaultOptions } from '../../lib/adapters/aws/wire-faults.js';
import { TransientStorageError } from '../../lib/core/errors.js';
import { provisionedAdapterJob } from '../support/emulator-world.js';

const provisioned = (extra: Partial<AwsConfig> = {}) => provisionedAdapterJob('wf', extra);

const noCounts = (): RequestCounts => ({ sqs: {}, s3: {}, dynamodb: {}, kinesis: {} });

/** An HTTP handler in place of the network: answers SQS's throttling `times` times, then a queue URL. */
function throttlingSqs(times: number, code = 'AWS.SimpleQueueService.RequestThrottled') {
  const config: AwsConfig = { region: 'us-east-1', endpoint: 'http://127.0.0.1:9', table: 't', bucket: 'b', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, maxAttempts: 3 };
  const { sqs } = createClients(config, noCounts());
  const answers = { sent: 0 };
  const json = (status: number, headers: Record<string, string>, body: object) => ({
    response: { statusCode: status, headers: { 'content-type': 'application/x-amz-json-1.0', ...headers }, body: Readable.from([Buffer.from(JSON.stringify(body))]) },
  });
  (sqs.config as { requestHandler: unknown }).requestHandler = {
    handle: async () =>
      answers.sent++ < times
        ? // what SQS answers (JSON protocol, query-compatible): the legacy code in x-amzn-query-error
          json(400, { 'x-amzn-query-error': `${code};Sender` }, { __type: 'com.amazonaws.sqs#RequestThrottled', message: 'Rate exceeded' })
        : json(200, {}, { QueueUrl: 'http://127.0.0.1:9/000000000000/q' }),
  };
  return { sqs, answers };
}

describe('the SDK retries what the edge calls transient', () => {
  it('retries SQS’s legacy AWS.SimpleQueueService.RequestThrottled (the SDK alone gives up at once)', async () => {
    const { sqs, answers } = throttlingSqs(2);
    const out = await sqs.send(new GetQueueUrlCommand({ QueueName: 'q' }));
    expect(out.QueueUrl).toBe('http://127.0.0.1:9/000000000000/q');
    expect(answers.sent).toBe(3);
    expect(out.$metadata.attempts).toBe(3);
  });

  it('still gives up after maxAttempts, and does not retry what is not transient', async () => {
    const throttled = throttlingSqs(5);
    const error = await throttled.sqs.send(new GetQueueUrlCommand({ QueueName: 'q' })).catch((e) => e);
    expect(error.name).toBe('AWS.SimpleQueueService.RequestThrottled');
    expect(throttled.answers.sent).toBe(3);
    const denied = throttlingSqs(5, 'AccessDenied');
    expect((await denied.sqs.send(new GetQueueUrlCommand({ QueueName: 'q' })).catch((e) => e)).name).toBe('AccessDenied');
    expect(denied.answers.sent).toBe(1);
  });
});

describe('wire faults', () => {
  it('draw the same decisions from the same seed, per service, at the configured rates', () => {
    const options: WireFaultOptions = { rates: { throttle: 0.1, '5xx': 0.05, lost: 0.05, latency: 0.2 }, seed: 42, maxLatencyMs: 100 };
    const draw = (seed: number, service: 'sqs' | 's3' | 'dynamodb', n: number) => {
      const next = wireFaultPlan({ ...options, seed }, service);
      return Array.from({ length: n }, next);
    };
    expect(draw(42, 'sqs', 50)).toEqual(draw(42, 'sqs', 50));
    expect(draw(42, 'sqs', 50)).not.toEqual(draw(42, 's3', 50));
    expect(draw(42, 'sqs', 50)).not.toEqual(draw(43, 'sqs', 50));
    const many = draw(7, 'dynamodb', 20_000);
    const share = (f: string) => many.filter((d) => d.fault === f).length / many.length;
    expect(share('throttle')).toBeCloseTo(0.1, 1);
    expect(share('5xx')).toBeCloseTo(0.05, 1);
    expect(share('lost')).toBeCloseTo(0.05, 1);
    const delayed = many.filter((d) => d.latencyMs > 0);
    expect(delayed.length / many.length).toBeCloseTo(0.2, 1);
    expect(Math.max(...delayed.map((d) => d.latencyMs))).toBeLessThanOrEqual(100);
  });

  it('are retried by the SDK: calls succeed with the right answers, and every kind is counted', async () => {
    const { topology, config } = await provisioned();
    const rates = { throttle: 0.1, '5xx': 0.15, lost: 0.15, latency: 0.2 };
    const ports = awsPorts({ ...config, maxAttempts: 12, wireFaults: { rates, seed: 1, maxLatencyMs: 5 } });
    for (let i = 0; i < 20; i++) {
      await ports.blobs.put(`k/${i}`, `v${i}`);
      expect(await ports.blobs.get(`k/${i}`)).toBe(`v${i}`);
      expect(await ports.queue.depth(topology.stages[0]!.queue)).toEqual({ visible: 0, inFlight: 0 });
      expect(await ports.manifest.getJob(`nobody-${i}`)).toBeNull();
    }
    for (const service of ['sqs', 's3', 'dynamodb'] as const) {
      for (const kind of ['throttle', '5xx', 'lost', 'latency'] as const) expect(ports.wireFaults![service][kind], `${service} ${kind}`).toBeGreaterThan(0);
      const attempts = Object.values(ports.requests[service]).reduce((a, b) => a + b, 0);
      const { throttle, '5xx': server, lost } = ports.wireFaults![service];
      expect(attempts).toBeGreaterThanOrEqual(throttle + server + lost + 20);
    }
  });

  it('lose the response of a write that took effect: the SDK’s retry meets its own conditional write', async () => {
    const { config } = await provisioned();
    const rates = { lost: 0.3 };
    // The first seed whose DynamoDB sequence starts with a lost response, then a clean attempt.
    const seed = Array.from({ length: 1000 }, (_, s) => s).find((s) => {
      const next = wireFaultPlan({ rates, seed: s }, 'dynamodb');
      return next().fault === 'lost' && next().fault === null;
    })!;
    const requests = noCounts();
    const injected = zeroWireFaultCounts();
    const { dynamodb } = createClients({ ...config, wireFaults: { rates, seed } }, requests, injected);
    const Item = { pk: { S: 'lost-response' }, sk: { S: 'x' } };
    const error = await dynamodb
      .send(new PutItemCommand({ TableName: config.table, Item, ConditionExpression: 'attribute_not_exists(pk)' }))
      .catch((e) => e);
    expect(error.name).toBe('ConditionalCheckFailedException');
    expect(injected.dynamodb.lost).toBe(1);
    expect(requests.dynamodb.PutItem).toBe(2);
    const plain = createClients(config, noCounts()).dynamodb;
    expect((await plain.send(new GetItemCommand({ TableName: config.table, Key: Item, ConsistentRead: true }))).Item).toEqual(Item);
  });

  it('become a TransientStorageError once the SDK’s attempts are spent', async () => {
    const { config } = await provisioned({ maxAttempts: 2, wireFaults: { rates: { throttle: 0.99 }, seed: 3 } });
    const ports = awsPorts(config);
    const error = await ports.blobs.get('k').catch((e) => e);
    expect(error).toBeInstanceOf(TransientStorageError);
    expect(error.cause.name).toBe('SlowDown');
    expect(ports.wireFaults!.s3.throttle).toBe(2);
  });
});
