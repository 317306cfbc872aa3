/**
 * Creates a job's resources on an AWS-compatible endpoint, as the resource spec
 * (core/resource-spec) describes them with the emulator's profile: per stage a FIFO queue
 * with a redrive policy to its FIFO dead-letter queue, the coordinator's standard timer
 * queue, the bucket, and the table. Every setting comes from the spec; this file only maps
 * it onto SDK calls. Names are the topology's (the table's and bucket's as the config says).
 *
 * What must hold: running it again is harmless. Whatever exists already is kept; a queue
 * that exists with other settings gets the requested ones (SQS refuses CreateQueue then), so
 * provisioning converges on what the topology and options say. On AWS itself the CDK
 * construct provisions instead (infra/); this is for emulators. With `wireFaults` in the
 * config, provisioning meets them too (a run's world is one wire).
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  SetQueueAttributesCommand,
  type QueueAttributeName,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createClients, type RequestCounts } from '../lib/adapters/aws/clients.js';
import type { AwsConfig } from '../lib/adapters/aws/config.js';
import { attempt, awsCode, translateError } from '../lib/adapters/aws/errors.js';
import type { WireFaultCounts } from '../lib/adapters/aws/wire-faults.js';
import {
  emulatorProfile,
  stageQueues,
  TABLE_SPEC,
  timerQueue,
  type EmulatorProfileOptions,
  type QueueSpec,
} from '../lib/core/resource-spec.js';
import type { Topology } from '../lib/core/topology.js';
import { patiently } from './retry.js';

/** The emulator profile's parameters (core/resource-spec). */
export type ProvisionOptions = EmulatorProfileOptions;

const TABLE_WAIT_SECONDS = 60;

/** Where the provisioning clients count their requests and injected wire faults (a run's totals). */
export interface ProvisionCounters {
  readonly requests?: RequestCounts;
  readonly injected?: WireFaultCounts;
}

/**
 * Each resource is ensured `patiently`: every step is idempotent, so one that failed
 * transiently (throttled, 5xx, a lost response) is simply done again.
 */
export async function provisionJob(topology: Topology, config: AwsConfig, options: ProvisionOptions, counters: ProvisionCounters = {}): Promise<void> {
  const clients = createClients(config, counters.requests ?? { sqs: {}, s3: {}, dynamodb: {}, kinesis: {} }, counters.injected);
  const profile = emulatorProfile(options);
  const ensure = (spec: QueueSpec, deadLetterArn?: string) =>
    patiently(`creating queue ${spec.name}`, () => ensureQueue(clients.sqs, spec.name, queueAttributes(spec, deadLetterArn)));
  try {
    await Promise.all([
      ...topology.stages.map(async (stage) => {
        const queues = stageQueues(stage, profile);
        const dlqUrl = await ensure(queues.deadLetterQueue);
        const dlqArn = await patiently(`reading the ARN of ${stage.deadLetterQueue}`, () => queueArn(clients.sqs, dlqUrl, stage.deadLetterQueue));
        await ensure(queues.queue, dlqArn);
      }),
      ensure(timerQueue(topology, profile)),
      patiently(`creating bucket ${config.bucket}`, () => ensureBucket(clients.s3, config.bucket, config.region)),
      patiently(`creating table ${config.table}`, () => ensureTable(clients.dynamodb, config.table)),
    ]);
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
}

/** A queue spec as SQS attributes; unset settings are left out (SQS's defaults). */
function queueAttributes(spec: QueueSpec, deadLetterArn?: string): Partial<Record<QueueAttributeName, string>> {
  if (spec.redrive && !deadLetterArn) throw new Error(`queue ${spec.name}: the ARN of its dead-letter queue ${spec.redrive.deadLetterQueue} is missing`);
  const attributes: Partial<Record<QueueAttributeName, string>> = {};
  const set = (name: QueueAttributeName, value: string | number | boolean | undefined) => {
    if (value !== undefined) attributes[name] = String(value);
  };
  if (spec.fifo) set('FifoQueue', true);
  set('ContentBasedDeduplication', spec.contentBasedDeduplication);
  if (spec.perMessageGroup) {
    set('DeduplicationScope', 'messageGroup');
    set('FifoThroughputLimit', 'perMessageGroupId');
  }
  set('MessageRetentionPeriod', spec.retentionSeconds);
  set('VisibilityTimeout', spec.visibilityTimeoutSeconds);
  if (spec.redrive) set('RedrivePolicy', JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: spec.redrive.maxReceiveCount }));
  return attributes;
}

/** Creates the queue, or brings an existing one to these attributes; returns its URL. */
async function ensureQueue(sqs: SQSClient, name: string, attributes: Partial<Record<QueueAttributeName, string>>): Promise<string> {
  try {
    const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    return out.QueueUrl!;
  } catch (e) {
    if (awsCode(e) !== 'QueueNameExists' && awsCode(e) !== 'QueueAlreadyExists') throw translateError('sqs', `CreateQueue ${name}`, e);
  }
  const url = await attempt('sqs', `GetQueueUrl ${name}`, async () => (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!);
  const { FifoQueue: _immutable, ...changeable } = attributes;
  await attempt('sqs', `SetQueueAttributes ${name}`, () => sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: changeable })));
  return url;
}

async function queueArn(sqs: SQSClient, url: string, name: string): Promise<string> {
  const out = await attempt('sqs', `GetQueueAttributes ${name}`, () =>
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })),
  );
  return out.Attributes!.QueueArn!;
}

async function ensureBucket(s3: S3Client, bucket: string, region: string): Promise<void> {
  try {
    // us-east-1 is the one region that takes no location constraint.
    const location = region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } };
    await s3.send(new CreateBucketCommand({ Bucket: bucket, ...location }));
  } catch (e) {
    if (awsCode(e) !== 'BucketAlreadyOwnedByYou') throw translateError('s3', `CreateBucket ${bucket}`, e);
  }
}

async function ensureTable(dynamodb: DynamoDBClient, table: string): Promise<void> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [TABLE_SPEC.partitionKey, TABLE_SPEC.sortKey].map((a) => ({ AttributeName: a.name, AttributeType: a.type })),
        KeySchema: [
          { AttributeName: TABLE_SPEC.partitionKey.name, KeyType: 'HASH' },
          { AttributeName: TABLE_SPEC.sortKey.name, KeyType: 'RANGE' },
        ],
        BillingMode: TABLE_SPEC.billingMode,
      }),
    );
  } catch (e) {
    if (awsCode(e) !== 'ResourceInUseException') throw translateError('dynamodb', `CreateTable ${table}`, e);
  }
  // Usable once ACTIVE (immediately on emulators, seconds on AWS).
  const waited = await attempt('dynamodb', `DescribeTable ${table} (waiting for it)`, () =>
    waitUntilTableExists({ client: dynamodb, maxWaitTime: TABLE_WAIT_SECONDS, minDelay: 1, maxDelay: 5 }, { TableName: table }),
  );
  if (waited.state !== 'SUCCESS') {
    const status = await dynamodb.send(new DescribeTableCommand({ TableName: table })).then((d) => d.Table?.TableStatus, () => 'unknown');
    throw new Error(`table ${table} not usable after ${TABLE_WAIT_SECONDS} s (status ${status})`);
  }
}
