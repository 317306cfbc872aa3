/**
 * The three SDK v3 clients, configured once per process (Lambda reuses them across
 * invocations): region, an emulator endpoint when configured (S3 then path-style, since an
 * emulator has no per-bucket host names), standard retries with backoff, bounded socket
 * timeouts, and a middleware that counts every request per service and operation.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { AwsConfig } from './config.js';
import type { AwsService } from './errors.js';

export type RequestCounts = Record<AwsService, Record<string, number>>;

export interface AwsClients {
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
}

/** Few SDK attempts: the runtime retries whole batches itself, so long SDK waits only add latency. */
const DEFAULT_MAX_ATTEMPTS = 3;

export function createClients(config: AwsConfig, requests: RequestCounts): AwsClients {
  const waitSeconds = config.receiveWaitSeconds ?? 0;
  const common = {
    region: config.region,
    maxAttempts: config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    retryMode: 'standard',
    ...(config.endpoint ? { endpoint: config.endpoint } : {}),
    ...(config.credentials ? { credentials: config.credentials } : {}),
  } as const;
  // A socket that goes quiet for this long is given up (and retried): longer than a long poll.
  const requestHandler = { connectionTimeout: 5_000, requestTimeout: Math.max(30_000, (waitSeconds + 10) * 1000) };
  const clients: AwsClients = {
    sqs: new SQSClient({ ...common, requestHandler }),
    s3: new S3Client({ ...common, requestHandler, forcePathStyle: config.endpoint !== undefined }),
    dynamodb: new DynamoDBClient({ ...common, requestHandler }),
  };
  for (const service of ['sqs', 's3', 'dynamodb'] as const) countRequests(clients[service], requests[service]);
  return clients;
}

/**
 * Counts each HTTP request (every attempt, SDK retries included: each one is billed) under
 * its operation name, e.g. `SendMessageBatch`. It sits inside the retry middleware
 * (finalizeRequest step, low priority), so it runs once per attempt.
 */
function countRequests(client: SQSClient | S3Client | DynamoDBClient, counts: Record<string, number>): void {
  (client.middlewareStack as SQSClient['middlewareStack']).add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '');
      counts[operation] = (counts[operation] ?? 0) + 1;
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'tidemarkRequestCounter' },
  );
}
