/**
 * The SDK v3 clients, configured once per process (Lambda reuses them across
 * invocations): region, an emulator endpoint when configured (S3 then path-style, since an
 * emulator has no per-bucket host names), short retries with backoff (retry-strategy.ts), bounded socket
 * timeouts, and per attempt, inside the SDK's retry middleware (finalizeRequest step, low
 * priority, in this order from the outside in):
 *   1. a counter of every request per service and operation;
 *   2. the retry classifier: what errors.ts calls transient is retried by the SDK too;
 *   3. wire faults, when `AwsConfig.wireFaults` asks for them (wire-faults.ts).
 */
import { Agent as HttpsAgent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsConfig } from './config.js';
import { isThrottling, isTransient, type AwsService } from './errors.js';
import { InvocationRetryStrategy } from './retry-strategy.js';
import { injectWireFaults, zeroWireFaultCounts, type WireFaultCounts } from './wire-faults.js';
import type { Billing } from '../../core/cost.js';
import { meterBilling } from './billing-meter.js';

export type RequestCounts = Record<AwsService, Record<string, number>>;

export interface AwsClients {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  /** The Kinesis source's reads (made only when a job has one). */
  readonly kinesis: KinesisClient;
}

/** Few SDK attempts: the runtime retries whole batches itself, so long SDK waits only add latency. */
const DEFAULT_MAX_ATTEMPTS = 3;

type AnyClient = SQSClient | S3Client | DynamoDBClient | KinesisClient;
const PER_ATTEMPT = { step: 'finalizeRequest', priority: 'low' } as const;

/**
 * @param injected where wire faults count what they inject (when `config.wireFaults` is set)
 * @param billing where billing units are counted (billing-meter.ts); none when absent
 */
export function createClients(config: AwsConfig, requests: RequestCounts, injected: WireFaultCounts = zeroWireFaultCounts(), billing?: Billing): AwsClients {
  const waitSeconds = config.receiveWaitSeconds ?? 0;
  const maxAttempts = config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const common = {
    region: config.region,
    maxAttempts,
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  } as const;
  // A socket that goes quiet for this long is given up (and retried): longer than a long poll.
  const requestHandler = {
    connectionTimeout: 5_000,
    requestTimeout: Math.max(30_000, (waitSeconds + 10) * 1000),
    ...(config.trustedCertificates ? { httpsAgent: new HttpsAgent({ keepAlive: true, ca: [...rootCertificates, config.trustedCertificates] }) } : {}),
  };
  const clients: AwsClients = {
    sqs: new SQSClient({ ...common, requestHandler, retryStrategy: new InvocationRetryStrategy(maxAttempts) }),
    s3: new S3Client({ ...common, requestHandler, retryStrategy: new InvocationRetryStrategy(maxAttempts), forcePathStyle: config.endpoint !== undefined }),
    dynamodb: new DynamoDBClient({ ...common, requestHandler, retryStrategy: new InvocationRetryStrategy(maxAttempts) }),
    kinesis: new KinesisClient({ ...common, requestHandler, retryStrategy: new InvocationRetryStrategy(maxAttempts) }),
  };
  for (const service of ['sqs', 's3', 'dynamodb', 'kinesis'] as const) {
    const client = clients[service];
    countRequests(client, requests[service]);
    // Kinesis bills shard-hours and PUT payload units, not reads: nothing to meter here.
    if (billing && service !== 'kinesis') meterBilling(client as SQSClient, service, billing);
    retryWhatIsTransient(client);
    if (config.wireFaults) injectWireFaults(client, service, config.wireFaults, injected[service]);
  }
  return clients;
}

const stackOf = (client: AnyClient) => client.middlewareStack as SQSClient['middlewareStack'];

/**
 * Counts each HTTP request (every attempt, SDK retries included: each one is billed) under
 * its operation name, e.g. `SendMessageBatch`. Attempts that wire faults answer are counted
 * too: on AWS a throttled request is still a request.
 */
function countRequests(client: AnyClient, counts: Record<string, number>): void {
  stackOf(client).add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts[operation] = (counts[operation] ?? 0) + 1;
      return next(args);
    },
    { ...PER_ATTEMPT, name: 'tidemarkRequestCounter' },
  );
}

/**
 * The SDK retries by its own lists of codes; errors.ts has a few more (SQS's legacy
 * `AWS.SimpleQueueService.RequestThrottled`, which the SDK treats as a client error, and
 * other query-compatible codes). An error `isTransient` accepts gets the `$retryable`
 * trait, which the SDK's standard strategy honours (as throttling when it is one, so it
 * backs off longer), and is retried within `maxAttempts` and the retry quota.
 */
function retryWhatIsTransient(client: AnyClient): void {
  stackOf(client).add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (e) {
        const error = e as { $retryable?: { throttling?: boolean } };
        if (typeof e === 'object' && e !== null && error.$retryable === undefined && isTransient(e)) {
          error.$retryable = { throttling: isThrottling(e) };
        }
        throw e;
      }
    },
    { ...PER_ATTEMPT, name: 'tidemarkRetryClassifier' },
  );
}
