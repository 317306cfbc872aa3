/**
 * The word-count example's stack with default props, bundled: the queues, functions, event
 * sources, schedule and bundles the deployment promises (DESIGN §10). Storage, alarms and
 * outputs are in storage-alarms.test.ts.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEARTBEAT_MS } from '../../lib/core/coordinator-timer.js';
import { compileTopology, type Topology } from '../../lib/core/topology.js';
import { functionIdOf, getAtt, loadJob, logicalIdOf, projectFile, queueIdOf, resourcesOf, synthJob, type Synthesized } from './synth.js';

let s: Synthesized;
let topology: Topology;
const queueId = (name: string) => queueIdOf(s.template, name);
const functionId = (description: RegExp) => functionIdOf(s.template, description);

beforeAll(async () => {
  s = await synthJob('examples/wordcount.ts');
  topology = compileTopology((await loadJob('examples/wordcount.ts')).build());
});
afterAll(() => s.cleanup());

describe('stage queues', () => {
  it('has, per stage of the topology, a FIFO queue named by the topology, encrypted, with its FIFO DLQ', () => {
    expect(topology.stages.map((t) => t.queue)).toEqual(['wordcount-lines.fifo', 'wordcount-counts.fifo']);
    for (const stage of topology.stages) {
      s.template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: stage.queue,
        FifoQueue: true,
        ContentBasedDeduplication: false,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        SqsManagedSseEnabled: true,
        // 6 × the operator's 60 s timeout
        VisibilityTimeout: 360,
        MessageRetentionPeriod: 14 * 24 * 3600,
        RedrivePolicy: { deadLetterTargetArn: getAtt(queueId(stage.deadLetterQueue)), maxReceiveCount: 5 },
      });
      s.template.hasResourceProperties('AWS::SQS::Queue', {
        QueueName: stage.deadLetterQueue,
        FifoQueue: true,
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
        // 6 × the recovery function's 300 s timeout: it consumes the DLQ
        VisibilityTimeout: 1800,
      });
    }
  });

  it('denies every queue request that is not TLS', () => {
    const policies = Object.values(resourcesOf(s.template, 'AWS::SQS::QueuePolicy'));
    expect(policies).toHaveLength(Object.keys(resourcesOf(s.template, 'AWS::SQS::Queue')).length);
    for (const p of policies) {
      expect(p.Properties.PolicyDocument.Statement).toContainEqual(
        expect.objectContaining({ Effect: 'Deny', Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
    }
  });
});

describe('operator functions', () => {
  it('runs one nodejs22.x ESM function per stage, told its stage, table and bucket', () => {
    for (const stage of topology.stages) {
      s.template.hasResourceProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs22.x',
        Handler: 'index.handler',
        Architectures: ['arm64'],
        Timeout: 60,
        MemorySize: 1024,
        Environment: {
          Variables: {
            TIDEMARK_STAGE: stage.id,
            TIDEMARK_TABLE: { Ref: logicalIdOf(s.template, 'AWS::DynamoDB::Table') },
            TIDEMARK_BUCKET: { Ref: logicalIdOf(s.template, 'AWS::S3::Bucket') },
            NODE_OPTIONS: '--enable-source-maps',
          },
        },
        LoggingConfig: { LogGroup: Match.anyValue() },
      });
    }
  });

  it('injects no faults: no function of the stack AWS gets carries a kill rate', () => {
    const functions = Object.values(resourcesOf(s.template, 'AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(0);
    for (const f of functions) expect(Object.keys(f.Properties.Environment?.Variables ?? {})).not.toContain('TIDEMARK_KILL_RATE');
  });

  it('feeds each from its queue: batches of 10, partial batch responses, concurrency from parallelism', () => {
    for (const stage of topology.stages) {
      s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: getAtt(queueId(stage.queue)),
        FunctionName: { Ref: functionId(new RegExp(`operator stage ${stage.id} `)) },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    }
  });

  it('writes logs to a log group kept for a month', () => {
    const groups = Object.values(resourcesOf(s.template, 'AWS::Logs::LogGroup'));
    expect(groups).toHaveLength(4);
    for (const g of groups) expect(g.Properties.RetentionInDays).toBe(30);
  });
});

describe('coordinator', () => {
  it('is ticked by an EventBridge rule once a minute, without retries', () => {
    expect(HEARTBEAT_MS).toBe(60_000);
    const coordinator = functionId(/checkpoint coordinator/);
    s.template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('coordinator'), Timeout: 300, MemorySize: 512 });
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: getAtt(coordinator), RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })],
    });
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: getAtt(coordinator),
      SourceArn: getAtt(logicalIdOf(s.template, 'AWS::Events::Rule')),
    });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
  });

  it('has a standard timer queue for the 2 s interval, consumed one message at a time', () => {
    s.template.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: topology.resources.timerQueue,
      FifoQueue: Match.absent(),
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 1800,
      MessageRetentionPeriod: 3600,
    });
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: getAtt(queueId(topology.resources.timerQueue)),
      FunctionName: { Ref: functionId(/checkpoint coordinator/) },
      BatchSize: 1,
    });
  });
});

describe('recovery', () => {
  it('consumes every dead-letter queue with partial batch responses', () => {
    const recovery = functionId(/dead-letter handling/);
    for (const stage of topology.stages) {
      s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: getAtt(queueId(stage.deadLetterQueue)),
        FunctionName: { Ref: recovery },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 2 },
      });
    }
    expect(Object.keys(resourcesOf(s.template, 'AWS::Lambda::EventSourceMapping'))).toHaveLength(2 * topology.stages.length + 1);
  });
});

describe('bundles', () => {
  const assetDirs = () =>
    Object.values(resourcesOf(s.template, 'AWS::Lambda::Function')).map((f) => join(s.outdir, `asset.${String(f.Properties.Code.S3Key).replace(/\.zip$/, '')}`));

  it('are ES modules, one per role, carrying the files the job reads beside its module', () => {
    const dirs = new Set(assetDirs());
    // Operator stages share one bundle: they differ only in TIDEMARK_STAGE.
    expect(dirs.size).toBe(3);
    for (const dir of dirs) {
      expect(existsSync(join(dir, 'index.mjs'))).toBe(true);
      expect(readFileSync(join(dir, 'data/corpus.txt'), 'utf8')).toBe(readFileSync(projectFile('examples/data/corpus.txt'), 'utf8'));
    }
  });

  it('load as Lambda would load them: the job reads its corpus from beside the bundle', () => {
    // Plain Node, as in Lambda (vitest would transform the bundles first, slowly).
    const urls = [...new Set(assetDirs())].map((d) => pathToFileURL(join(d, 'index.mjs')).href);
    const script = `for (const u of ${JSON.stringify(urls)}) console.log(typeof (await import(u)).handler);`;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: tmpdir(), encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim().split('\n')).toEqual(urls.map(() => 'function'));
  });
});
