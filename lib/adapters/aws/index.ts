/**
 * AWS adapters (SDK v3) behind the ports: SQS queues, one S3 bucket, one DynamoDB table per
 * job. `awsPorts` is what the Lambda handlers and the local host build once per process.
 */
import { Billing } from '../../core/cost.js';
import { systemClock, type Ports } from '../../ports/index.js';
import { createClients, type RequestCounts } from './clients.js';
import type { AwsConfig } from './config.js';
import { DynamoDbLogStore } from './dynamodb-log-store.js';
import { DynamoDbManifestStore } from './dynamodb-manifest-store.js';
import { DynamoDbOutputTable } from './dynamodb-output-table.js';
import { DynamoDbStateStore } from './dynamodb-state-store.js';
import { KinesisStreamStore } from './kinesis-stream-store.js';
import { S3BlobStore } from './s3-blob-store.js';
import { SqsQueue } from './sqs-queue.js';
import { zeroWireFaultCounts, type WireFaultCounts } from './wire-faults.js';

export { meterBilling } from './billing-meter.js';
export { createClients, type AwsClients, type RequestCounts } from './clients.js';
export { awsConfigFromEnv, ENV, type AwsConfig } from './config.js';
export { DynamoDbLogStore } from './dynamodb-log-store.js';
export { DynamoDbManifestStore } from './dynamodb-manifest-store.js';
export { DynamoDbOutputTable } from './dynamodb-output-table.js';
export { DYNAMODB_ITEM_LIMIT, DynamoDbStateStore, STATE_MAX_ITEM_BYTES } from './dynamodb-state-store.js';
export { AwsRequestError, translateError } from './errors.js';
export { WIRE_FAULT_KINDS, zeroWireFaultCounts, type WireFaultCounts, type WireFaultKind, type WireFaultOptions } from './wire-faults.js';
export { KinesisStreamStore } from './kinesis-stream-store.js';
export { S3BlobStore } from './s3-blob-store.js';
export { SqsQueue } from './sqs-queue.js';

export interface AwsPorts extends Ports {
  /** API calls made, by service and operation (benchmarks report them). */
  readonly requests: RequestCounts;
  /** Wire faults injected so far, by service and kind; null unless `config.wireFaults` asks for them. */
  readonly wireFaults: WireFaultCounts | null;
  /** Billing units of the calls made (core/cost.ts, billing-meter.ts). */
  readonly billing: Billing;
}

/** @param shared.injected wire-fault counts shared with other ports of the same run */
export function awsPorts(config: AwsConfig, shared: { injected?: WireFaultCounts } = {}): AwsPorts {
  const requests: RequestCounts = { sqs: {}, s3: {}, dynamodb: {}, kinesis: {} };
  const injected = shared.injected ?? zeroWireFaultCounts();
  const billing = new Billing();
  const c = createClients(config, requests, injected, billing);
  return {
    queue: new SqsQueue(c.sqs, { waitTimeSeconds: config.receiveWaitSeconds ?? 0 }),
    blobs: new S3BlobStore(c.s3, config.bucket),
    manifest: new DynamoDbManifestStore(c.dynamodb, config.table),
    state: new DynamoDbStateStore(c.dynamodb, config.table),
    logs: new DynamoDbLogStore(c.dynamodb, config.table),
    outputs: new DynamoDbOutputTable(c.dynamodb, config.table),
    streams: new KinesisStreamStore(c.kinesis),
    clock: systemClock,
    requests,
    wireFaults: config.wireFaults ? injected : null,
    billing,
  };
}
