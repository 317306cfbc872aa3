/**
 * Least privilege: permissions only through grants, no wildcard actions, the only wildcard
 * resource the job's own S3 key prefix, and each role able to reach exactly the queues its
 * runtime sends to or consumes (DESIGN §10). Also checks that every AWS call the adapters
 * make is granted, so a new SDK command cannot reach Lambda without its permission.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import { Stream } from 'aws-cdk-lib/aws-kinesis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allStatements, asArray, RolePermissions } from './iam.js';
import { projectFile, resourcesOf, synthJob, type Synthesized } from './synth.js';

let wordcount: Synthesized;
let minutely: Synthesized;
let orders: Synthesized;
const ORDERS_STREAM = 'arn:aws:kinesis:eu-west-1:111122223333:stream/orders';
const OTHER_STREAM = 'arn:aws:kinesis:eu-west-1:111122223333:stream/unrelated';

beforeAll(async () => {
  wordcount = await synthJob('examples/wordcount.ts', {}, { lean: true });
  minutely = await synthJob('test/infra/fixtures/minutely.ts', {}, { lean: true });
  const scope = new Stack();
  orders = await synthJob(
    'examples/orders.ts',
    { kinesisStreams: [Stream.fromStreamArn(scope, 'Orders', ORDERS_STREAM), Stream.fromStreamArn(scope, 'Other', OTHER_STREAM)] },
    { lean: true },
  );
});
afterAll(() => {
  wordcount.cleanup();
  minutely.cleanup();
  orders.cleanup();
});

const operator = (stage: string) => new RegExp(`operator stage ${stage} `);
const coordinator = /checkpoint coordinator/;
const recovery = /dead-letter handling/;

describe('every statement', () => {
  it('names its actions one by one: no wildcard action anywhere', () => {
    for (const s of [wordcount, minutely]) {
      const actions = allStatements(s.template).flatMap((st) => asArray(st.Action));
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    }
  });

  it('has no wildcard resource but the job prefix of its own bucket', () => {
    for (const [s, job] of [[wordcount, 'wordcount'], [minutely, 'minutely']] as const) {
      const bucketId = Object.keys(resourcesOf(s.template, 'AWS::S3::Bucket'))[0]!;
      const wild = allStatements(s.template)
        .flatMap((st) => asArray(st.Resource))
        .filter((r) => JSON.stringify(r).includes('*'));
      expect(wild.length).toBeGreaterThan(0);
      for (const r of wild) expect(r).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, `/jobs/${job}/*`]] });
    }
  });

  it('belongs to a role of its own: no managed policies, no inline policies beside the grants', () => {
    for (const s of [wordcount, minutely]) {
      const roles = Object.values(resourcesOf(s.template, 'AWS::IAM::Role'));
      expect(roles).toHaveLength(Object.keys(resourcesOf(s.template, 'AWS::Lambda::Function')).length);
      for (const r of roles) {
        expect(r.Properties.ManagedPolicyArns).toBeUndefined();
        expect(r.Properties.Policies).toBeUndefined();
        expect(r.Properties.AssumeRolePolicyDocument.Statement).toEqual([
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
        ]);
      }
    }
  });
});

describe('queues each role reaches', () => {
  it('word count: the source sends downstream and to itself, the sink stage to itself (commits)', () => {
    const p = new RolePermissions(wordcount.template);
    expect(p.queues(operator('lines'), 'sqs:SendMessage')).toEqual(['wordcount-counts.fifo', 'wordcount-lines-dlq.fifo', 'wordcount-lines.fifo']);
    expect(p.queues(operator('lines'), 'sqs:ReceiveMessage')).toEqual(['wordcount-lines.fifo']);
    expect(p.queues(operator('counts'), 'sqs:SendMessage')).toEqual(['wordcount-counts-dlq.fifo', 'wordcount-counts.fifo']);
    expect(p.queues(operator('counts'), 'sqs:ReceiveMessage')).toEqual(['wordcount-counts.fifo']);
    expect(p.queues(coordinator, 'sqs:SendMessage')).toEqual(['wordcount-counts.fifo', 'wordcount-lines.fifo', 'wordcount-timer']);
    expect(p.queues(coordinator, 'sqs:ReceiveMessage')).toEqual(['wordcount-timer']);
    expect(p.queues(recovery, 'sqs:SendMessage')).toEqual([]);
    expect(p.queues(recovery, 'sqs:ReceiveMessage')).toEqual(['wordcount-counts-dlq.fifo', 'wordcount-lines-dlq.fifo']);
  });

  it('fan-out: commits reach every sink stage, records only the stages downstream', () => {
    const p = new RolePermissions(minutely.template);
    const sinks = ['minutely-raw.fifo', 'minutely-sum.fifo'];
    expect(p.queues(operator('numbers'), 'sqs:SendMessage')).toEqual(['minutely-double.fifo', 'minutely-numbers-dlq.fifo', 'minutely-numbers.fifo', ...sinks]);
    expect(p.queues(operator('double'), 'sqs:SendMessage')).toEqual(['minutely-double-dlq.fifo', ...sinks]);
    expect(p.queues(operator('sum'), 'sqs:SendMessage')).toEqual(['minutely-raw.fifo', 'minutely-sum-dlq.fifo', 'minutely-sum.fifo']);
    // Control messages only: triggers and first polls to the source, commits to the sinks.
    expect(p.queues(coordinator, 'sqs:SendMessage')).toEqual(['minutely-numbers.fifo', ...sinks]);
  });

  it('gives every role the same data-plane access to the table and the bucket, and its own log group', () => {
    const p = new RolePermissions(wordcount.template);
    const data = ['dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem', 's3:DeleteObject', 's3:GetObject', 's3:ListBucket', 's3:PutObject'];
    for (const role of [operator('lines'), operator('counts'), coordinator, recovery]) {
      const actions = p.actions(role);
      expect(actions.filter((a) => !a.startsWith('sqs:'))).toEqual([...data.slice(0, 6), 'logs:CreateLogStream', 'logs:PutLogEvents', ...data.slice(6)]);
    }
  });
});

describe('Kinesis streams', () => {
  it('only the stage running a Kinesis source reads its stream, and no other stream', () => {
    const p = new RolePermissions(orders.template);
    const reads = (role: RegExp) =>
      p
        .statements(role)
        .filter((s) => asArray(s.Action).some((a) => a.startsWith('kinesis:')))
        .flatMap((s) => asArray(s.Resource));
    expect(p.actions(operator('orders')).filter((a) => a.startsWith('kinesis:'))).toEqual(expect.arrayContaining(['kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards']));
    expect([...new Set(reads(operator('orders')))]).toEqual([ORDERS_STREAM]);
    for (const role of [operator('payments'), operator('rates'), operator('paid'), coordinator, recovery]) expect(reads(role), String(role)).toEqual([]);
  });
});

/** IAM actions of each SDK command the adapters may send (a transaction needs its items' actions). */
const ACTION_OF: Record<string, string | string[]> = {
  TransactWriteItems: ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
  GetItem: 'dynamodb:GetItem',
  PutItem: 'dynamodb:PutItem',
  UpdateItem: 'dynamodb:UpdateItem',
  DeleteItem: 'dynamodb:DeleteItem',
  Query: 'dynamodb:Query',
  BatchWriteItem: 'dynamodb:BatchWriteItem',
  BatchGetItem: 'dynamodb:BatchGetItem',
  PutObject: 's3:PutObject',
  GetObject: 's3:GetObject',
  HeadObject: 's3:GetObject',
  DeleteObject: 's3:DeleteObject',
  DeleteObjects: 's3:DeleteObject',
  ListObjectsV2: 's3:ListBucket',
  SendMessage: 'sqs:SendMessage',
  SendMessageBatch: 'sqs:SendMessage',
  ReceiveMessage: 'sqs:ReceiveMessage',
  DeleteMessage: 'sqs:DeleteMessage',
  DeleteMessageBatch: 'sqs:DeleteMessage',
  ChangeMessageVisibility: 'sqs:ChangeMessageVisibility',
  GetQueueUrl: 'sqs:GetQueueUrl',
  GetQueueAttributes: 'sqs:GetQueueAttributes',
  ListShards: 'kinesis:ListShards',
  GetShardIterator: 'kinesis:GetShardIterator',
  GetRecords: 'kinesis:GetRecords',
};
/** Commands only tooling sends (a local run's inputs), never a function. */
const TOOLING = new Set(['CreateStream', 'DescribeStreamSummary', 'PutRecords']);

describe('the AWS adapters', () => {
  it('make no call the functions are not granted', () => {
    const dir = projectFile('lib/adapters/aws');
    const commands = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(`${dir}/${f}`, 'utf8').matchAll(/new (\w+)Command\(/g)].map((m) => m[1]!))
      .filter((c) => !TOOLING.has(c));
    expect(commands.length).toBeGreaterThan(0);
    const unknown = commands.filter((c) => !(c in ACTION_OF));
    expect(unknown, 'commands without a known IAM action: map them here, then grant them in infra/').toEqual([]);
    const granted = new Set([wordcount, orders].flatMap((t) => allStatements(t.template).flatMap((s) => asArray(s.Action))));
    expect([...new Set(commands.flatMap((c) => ACTION_OF[c]!))].filter((a) => !granted.has(a))).toEqual([]);
  });
});
