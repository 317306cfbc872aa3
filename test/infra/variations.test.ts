/**
 * A job unlike the example (two-minute interval, parallelism 1 to 3, two sinks) with every
 * prop set away from its default: the template follows the topology and the props.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TidemarkJob } from '../../infra/tidemark-job.js';
import { getAtt, jobApp, loadJob, projectFile, queueIdOf, resourcesOf } from './synth.js';

let s: { job: TidemarkJob; template: Template; outdir: string };
const queueId = (name: string) => queueIdOf(s.template, name);

beforeAll(async () => {
  const { stack, outdir } = jobApp();
  const topic = new sns.Topic(stack, 'Alarms');
  const logs = new s3.Bucket(stack, 'AccessLogs');
  const job = new TidemarkJob(stack, 'Job', {
    job: await loadJob('test/infra/fixtures/minutely.ts'),
    jobModule: projectFile('test/infra/fixtures/minutely.ts'),
    jobAssets: ['data'],
    operatorTimeout: Duration.seconds(30),
    operatorMemorySize: 2048,
    batchSize: 5,
    maxReceiveCount: 3,
    coordinatorTimeout: Duration.minutes(2),
    coordinatorMemorySize: 256,
    architecture: Architecture.X86_64,
    stagedSinkExpiration: Duration.days(7),
    logRetention: RetentionDays.ONE_WEEK,
    serverAccessLogsBucket: logs,
    oldestMessageAgeThreshold: Duration.minutes(5),
    alarmActions: [new SnsAction(topic)],
    removalPolicy: RemovalPolicy.DESTROY,
    faultInjection: { killRate: 0.05 },
  });
  s = { job, outdir, template: Template.fromStack(stack) };
});
afterAll(() => rmSync(s.outdir, { recursive: true, force: true }));

describe('a two-minute interval', () => {
  it('keeps the one-minute heartbeat and needs no timer queue', () => {
    s.template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    expect(s.job.coordinator.timerQueue).toBeUndefined();
    s.template.resourceCountIs('AWS::SQS::Queue', 2 * 4);
    expect(Object.keys(s.template.findOutputs('*')).filter((k) => k.includes('Timer'))).toEqual([]);
    // Only the operator and recovery event sources: nothing feeds the coordinator but the rule.
    s.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 4 + 4);
  });
});

describe('stages from the topology', () => {
  it('scale each event source with its stage parallelism (at least Lambda\'s minimum of 2)', () => {
    const expected = { numbers: 2, double: 3, sum: 2, raw: 3 };
    for (const [stage, concurrency] of Object.entries(expected)) {
      s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: getAtt(queueId(`minutely-${stage}.fifo`)),
        BatchSize: 5,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: concurrency },
      });
    }
  });

  it('size queues from the function timeouts and the receive count', () => {
    for (const stage of ['numbers', 'double', 'sum', 'raw']) {
      s.template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: `minutely-${stage}.fifo`,
        VisibilityTimeout: 180,
        RedrivePolicy: { maxReceiveCount: 3, deadLetterTargetArn: Match.anyValue() },
      });
      s.template.hasResourceProperties('AWS::SQS::Queue', { QueueName: `minutely-${stage}-dlq.fifo`, VisibilityTimeout: 720 });
    }
  });

  it('size functions from the props', () => {
    const functions = Object.values(resourcesOf(s.template, 'AWS::Lambda::Function'));
    expect(functions).toHaveLength(6);
    for (const f of functions) expect(f.Properties.Architectures).toEqual(['x86_64']);
    expect(functions.filter((f) => f.Properties.Timeout === 30 && f.Properties.MemorySize === 2048)).toHaveLength(4);
    expect(functions.filter((f) => f.Properties.Timeout === 120 && f.Properties.MemorySize === 256)).toHaveLength(2);
    for (const g of Object.values(resourcesOf(s.template, 'AWS::Logs::LogGroup'))) expect(g.Properties.RetentionInDays).toBe(7);
  });
});

describe('fault injection', () => {
  it('tells the operator functions, and only them, the kill rate', () => {
    const functions = Object.values(resourcesOf(s.template, 'AWS::Lambda::Function'));
    const rates = functions.map((f) => [String(f.Properties.Description), f.Properties.Environment?.Variables?.TIDEMARK_KILL_RATE]);
    expect(rates.filter(([d]) => / operator stage /.test(d!)).map(([, r]) => r)).toEqual(['0.05', '0.05', '0.05', '0.05']);
    expect(rates.filter(([d]) => !/ operator stage /.test(d!)).map(([, r]) => r)).toEqual([undefined, undefined]);
  });
});

describe('storage and alarms from the props', () => {
  it('expire each sink\'s staged parts when asked, and log access to the given bucket', () => {
    const bucket = Object.entries(resourcesOf(s.template, 'AWS::S3::Bucket')).find(([id]) => id.includes('Storage'))!;
    expect(bucket[1].Properties.LifecycleConfiguration.Rules).toEqual([
      { Id: 'AbortIncompleteMultipartUploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
      { Id: 'ExpireStagedParts-out', Status: 'Enabled', Prefix: 'jobs/minutely/sinks/out/staged/', ExpirationInDays: 7 },
      { Id: 'ExpireStagedParts-raw', Status: 'Enabled', Prefix: 'jobs/minutely/sinks/raw/staged/', ExpirationInDays: 7 },
    ]);
    expect(bucket[1].Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: expect.stringMatching(/^AccessLogs/) }, LogFilePrefix: 'minutely/' });
  });

  it('destroy what the stack held when asked', () => {
    s.template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ DeletionProtectionEnabled: false }) });
    s.template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', Properties: Match.objectLike({ LifecycleConfiguration: Match.anyValue() }) });
  });

  it('send every alarm to the given actions, with the given age threshold', () => {
    const alarms = Object.values(resourcesOf(s.template, 'AWS::CloudWatch::Alarm'));
    expect(alarms).toHaveLength(3 * 4 + 1);
    const topic = Object.keys(resourcesOf(s.template, 'AWS::SNS::Topic'))[0]!;
    for (const a of alarms) expect(a.Properties.AlarmActions).toEqual([{ Ref: topic }]);
    expect(alarms.filter((a) => a.Properties.MetricName === 'ApproximateAgeOfOldestMessage').map((a) => a.Properties.Threshold)).toEqual([300, 300, 300, 300]);
  });
});

describe('bundles', () => {
  it('carry the assets the props name, directories included', () => {
    const keys = new Set(Object.values(resourcesOf(s.template, 'AWS::Lambda::Function')).map((f) => String(f.Properties.Code.S3Key).replace(/\.zip$/, '')));
    expect(keys.size).toBe(3);
    for (const key of keys) expect(existsSync(join(s.outdir, `asset.${key}`, 'data/numbers.txt'))).toBe(true);
  });
});
