/**
 * The resource spec (core/resource-spec, core/function-spec): its values for both profiles,
 * and that both mappings take every setting from it — the CDK construct (a lean synth) and
 * emulator provisioning (read back from the emulator the test run started).
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Duration } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsConfigFromEnv, ENV } from '../../lib/adapters/aws/config.js';
import { collect, generator, job } from '../../lib/api/index.js';
import { operatorFunction } from '../../lib/core/function-spec.js';
import {
  awsProfile,
  BUCKET_SPEC,
  emulatorProfile,
  LOCAL_RUN_PROFILE,
  MAX_RETENTION_SECONDS,
  resourceSpec,
  stageQueues,
  TABLE_SPEC,
  timerQueue,
  type QueueSpec,
  type ResourceSpec,
} from '../../lib/core/resource-spec.js';
import { compileTopology, stageById, type Topology } from '../../lib/core/topology.js';
import { provisionJob } from '../../local/provision.js';
import { RolePermissions } from '../infra/iam.js';
import { loadJob, resourcesOf, synthJob, type Synthesized } from '../infra/synth.js';
import { uniqueJobName, useEmulator } from '../support/emulator-world.js';

const DAYS_14 = 14 * 24 * 3600;
/** The table's key schema as CloudFormation and DescribeTable both spell it. */
const KEY_SCHEMA = [
  { AttributeName: TABLE_SPEC.partitionKey.name, KeyType: 'HASH' },
  { AttributeName: TABLE_SPEC.sortKey.name, KeyType: 'RANGE' },
];
let wordcount: Topology;
let minutely: Topology;

beforeAll(async () => {
  wordcount = compileTopology((await loadJob('examples/wordcount.ts')).build());
  minutely = compileTopology((await loadJob('test/infra/fixtures/minutely.ts')).build());
});

describe('the spec', () => {
  it('on AWS: six times the consumer timeout, the longest retention, high-throughput FIFO', () => {
    const profile = awsProfile({ operatorTimeoutSeconds: 60, recoveryTimeoutSeconds: 300, coordinatorTimeoutSeconds: 120, maxReceiveCount: 5 });
    expect(stageQueues(stageById(wordcount, 'lines'), profile)).toEqual({
      queue: {
        name: 'wordcount-lines.fifo',
        fifo: true,
        contentBasedDeduplication: false,
        perMessageGroup: true,
        retentionSeconds: DAYS_14,
        visibilityTimeoutSeconds: 360,
        redrive: { deadLetterQueue: 'wordcount-lines-dlq.fifo', maxReceiveCount: 5 },
      },
      deadLetterQueue: { name: 'wordcount-lines-dlq.fifo', fifo: true, retentionSeconds: DAYS_14, visibilityTimeoutSeconds: 1800 },
    });
    expect(timerQueue(wordcount, profile)).toEqual({ name: 'wordcount-timer', fifo: false, visibilityTimeoutSeconds: 720, retentionSeconds: 3600 });
    expect(MAX_RETENTION_SECONDS).toBe(DAYS_14);
  });

  it('on an emulator: the given short visibility and receive count, SQS defaults otherwise', () => {
    const profile = emulatorProfile({ visibilityTimeoutSeconds: 1, maxReceiveCount: 10 });
    expect(stageQueues(stageById(wordcount, 'counts'), profile)).toEqual({
      queue: {
        name: 'wordcount-counts.fifo',
        fifo: true,
        contentBasedDeduplication: false,
        perMessageGroup: false,
        visibilityTimeoutSeconds: 1,
        redrive: { deadLetterQueue: 'wordcount-counts-dlq.fifo', maxReceiveCount: 10 },
      },
      // Dead letters are kept as long as SQS allows on an emulator too.
      deadLetterQueue: { name: 'wordcount-counts-dlq.fifo', fifo: true, retentionSeconds: DAYS_14 },
    });
    expect(timerQueue(wordcount, profile)).toEqual({ name: 'wordcount-timer', fifo: false, visibilityTimeoutSeconds: 1 });
    expect(LOCAL_RUN_PROFILE).toEqual({ visibilityTimeoutSeconds: 1, maxReceiveCount: 10 });
  });

  it('has one table (pk/sk strings, on demand) and an unversioned bucket', () => {
    expect(TABLE_SPEC).toEqual({ partitionKey: { name: 'pk', type: 'S' }, sortKey: { name: 'sk', type: 'S' }, billingMode: 'PAY_PER_REQUEST' });
    expect(BUCKET_SPEC).toEqual({ versioned: false, abortIncompleteMultipartUploadAfterDays: 1 });
  });

  it('tells operators their stage and sends each role only where its runtime sends', () => {
    const spec = resourceSpec(minutely, emulatorProfile(LOCAL_RUN_PROFILE));
    const sinks = ['minutely-sum.fifo', 'minutely-raw.fifo'];
    expect(spec.stages.map((s) => [s.operator.environment, s.operator.sendsTo])).toEqual([
      [{ stage: 'numbers' }, ['minutely-numbers-dlq.fifo', 'minutely-numbers.fifo', 'minutely-double.fifo', ...sinks]],
      [{ stage: 'double' }, ['minutely-double-dlq.fifo', ...sinks]],
      [{ stage: 'sum' }, ['minutely-sum-dlq.fifo', ...sinks]],
      [{ stage: 'raw' }, ['minutely-raw-dlq.fifo', ...sinks]],
    ]);
    expect(spec.coordinator).toEqual({ role: 'coordinator', environment: {}, sendsTo: ['minutely-numbers.fifo', ...sinks] });
    expect(spec.recovery).toEqual({ role: 'recovery', environment: {}, sendsTo: [] });
  });

  it('names a queue once even when a stage is its own source and sink', () => {
    const j = job('chained');
    j.source('nums', generator({ count: 3, make: (i) => i })).sink('out', collect());
    const chained = compileTopology(j.build());
    expect(chained.stages).toHaveLength(1);
    expect(operatorFunction(chained, chained.stages[0]!).sendsTo).toEqual(['chained-nums-dlq.fifo', 'chained-nums.fifo']);
  });
});

describe('the CDK construct takes every setting from the spec', () => {
  let s: Synthesized;
  beforeAll(async () => {
    s = await synthJob('examples/wordcount.ts', { operatorTimeout: Duration.seconds(20), coordinatorTimeout: Duration.seconds(90), maxReceiveCount: 7 }, { lean: true });
  });
  afterAll(() => s.cleanup());

  it('is the spec of the topology with the AWS profile of its props', () => {
    const profile = awsProfile({ operatorTimeoutSeconds: 20, recoveryTimeoutSeconds: 90, coordinatorTimeoutSeconds: 90, maxReceiveCount: 7 });
    // Stages compared by id: each build of the job has operator specs of its own.
    const plain = ({ stages, ...rest }: ResourceSpec) => ({ ...rest, stages: stages.map(({ stage, ...r }) => ({ ...r, stage: stage.id })) });
    expect(plain(s.job.spec)).toEqual(plain(resourceSpec(wordcount, profile)));
  });

  it('deploys each queue as its spec says', () => {
    const queues = Object.values(resourcesOf(s.template, 'AWS::SQS::Queue')).map((q) => q.Properties);
    const specs: QueueSpec[] = [...s.job.spec.stages.flatMap((st) => [st.queue, st.deadLetterQueue]), s.job.spec.timerQueue];
    expect(queues.map((q) => q.QueueName).sort()).toEqual(specs.map((q) => q.name).sort());
    for (const spec of specs) {
      const q = queues.find((p) => p.QueueName === spec.name)!;
      expect(q.FifoQueue).toBe(spec.fifo ? true : undefined);
      expect(q.ContentBasedDeduplication).toBe(spec.contentBasedDeduplication);
      expect(q.DeduplicationScope).toBe(spec.perMessageGroup ? 'messageGroup' : undefined);
      expect(q.MessageRetentionPeriod).toBe(spec.retentionSeconds);
      expect(q.VisibilityTimeout).toBe(spec.visibilityTimeoutSeconds);
      expect(q.RedrivePolicy?.maxReceiveCount).toBe(spec.redrive?.maxReceiveCount);
    }
  });

  it('sets the table key schema, the environment and the sends of the spec', () => {
    const table = Object.values(resourcesOf(s.template, 'AWS::DynamoDB::Table'))[0]!.Properties;
    expect(table.KeySchema).toEqual(KEY_SCHEMA);
    expect(table.AttributeDefinitions).toEqual([TABLE_SPEC.partitionKey, TABLE_SPEC.sortKey].map((a) => ({ AttributeName: a.name, AttributeType: a.type })));
    expect(table.BillingMode).toBe(TABLE_SPEC.billingMode);
    const functions = Object.values(resourcesOf(s.template, 'AWS::Lambda::Function')).map((f) => f.Properties);
    const permissions = new RolePermissions(s.template);
    for (const { stage, operator } of s.job.spec.stages) {
      const fn = functions.find((f) => String(f.Description).includes(`operator stage ${stage.id} `))!;
      expect(fn.Environment.Variables[ENV.stage]).toBe(operator.environment.stage);
      expect(permissions.queues(new RegExp(`operator stage ${stage.id} `), 'sqs:SendMessage')).toEqual([...operator.sendsTo].sort());
    }
    const coordinatorSends = [...s.job.spec.coordinator.sendsTo, s.job.spec.timerQueue.name].sort();
    expect(permissions.queues(/checkpoint coordinator/, 'sqs:SendMessage')).toEqual(coordinatorSends);
  });
});

describe('emulator provisioning takes every setting from the spec', () => {
  it('creates each queue and the table as the emulator profile says', async () => {
    useEmulator();
    const j = job(uniqueJobName('spec'), { checkpoints: { interval: 1000 } });
    j.source('nums', generator({ count: 3, make: (i) => i }))
      .keyBy((n) => n % 2)
      .reduce('sum', (a, b) => a + b)
      .sink('out', collect());
    const topology = compileTopology(j.build());
    const config = awsConfigFromEnv(topology);
    const options = { visibilityTimeoutSeconds: 7, maxReceiveCount: 4 };
    await provisionJob(topology, config, options);
    const profile = emulatorProfile(options);
    const specs = [...topology.stages.flatMap((st) => Object.values(stageQueues(st, profile))), timerQueue(topology, profile)];
    const sqs = new SQSClient({ region: config.region });
    const dynamodb = new DynamoDBClient({ region: config.region });
    try {
      for (const spec of specs) {
        const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: spec.name }));
        const { Attributes: a = {} } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
        // Unset in the spec: SQS's defaults.
        expect(a.VisibilityTimeout).toBe(String(spec.visibilityTimeoutSeconds ?? 30));
        expect(a.MessageRetentionPeriod).toBe(String(spec.retentionSeconds ?? 4 * 24 * 3600));
        expect(a.FifoQueue).toBe(spec.fifo ? 'true' : undefined);
        if (spec.fifo) expect(a.ContentBasedDeduplication).toBe(String(spec.contentBasedDeduplication ?? false));
        expect(a.RedrivePolicy === undefined ? undefined : JSON.parse(a.RedrivePolicy).maxReceiveCount).toBe(spec.redrive?.maxReceiveCount);
      }
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: config.table }));
      expect(Table?.KeySchema).toEqual(KEY_SCHEMA);
      expect(Table?.BillingModeSummary?.BillingMode).toBe(TABLE_SPEC.billingMode);
    } finally {
      sqs.destroy();
      dynamodb.destroy();
    }
  });
});
