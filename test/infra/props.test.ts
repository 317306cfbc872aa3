/**
 * Invalid TidemarkJob props fail the synth at construction, before anything is bundled,
 * with an error naming the prop. Also the small pure helpers the construct derives its
 * schedule and bundle contents from.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Stream, type IStream } from 'aws-cdk-lib/aws-kinesis';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { job, type JobBuilder } from '../../lib/api/job.js';
import { heartbeatRate, needsTimer } from '../../infra/coordinator.js';
import { referencedAssets } from '../../infra/job-assets.js';
import { stagedPrefix } from '../../infra/job-storage.js';
import type { TidemarkJobProps } from '../../infra/props.js';
import { TidemarkJob } from '../../infra/tidemark-job.js';
import { jobName } from '../../lib/core/ids.js';
import { jobApp, loadJob, projectFile } from './synth.js';

let wordcount: JobBuilder;
beforeAll(async () => {
  wordcount = await loadJob('examples/wordcount.ts');
});

function construct(props: Partial<Record<keyof TidemarkJobProps, unknown>>): () => void {
  const { stack } = jobApp();
  return () => new TidemarkJob(stack, 'Job', { job: wordcount, jobModule: projectFile('examples/wordcount.ts'), ...props } as TidemarkJobProps);
}

describe('invalid props', () => {
  const cases: [string, Partial<Record<keyof TidemarkJobProps, unknown>>, RegExp][] = [
    ['no job', { job: undefined }, /TidemarkJob job: is required/],
    ['a job without operators', { job: job('empty', {}) }, /TidemarkJob job: operators: the job has no source/],
    ['something else than a job', { job: { name: 'x' } }, /TidemarkJob job: is not a job/],
    ['no job module', { jobModule: '' }, /TidemarkJob jobModule: is required/],
    ['a missing job module', { jobModule: 'examples/nope.ts' }, /TidemarkJob jobModule: "examples\/nope.ts" is not a file/],
    ['a job module that is no module', { jobModule: projectFile('cdk.json') }, /TidemarkJob jobModule: must be a .ts, .mts, .js, .mjs module/],
    ['an asset outside the job directory', { jobAssets: ['../package.json'] }, /TidemarkJob jobAssets: "..\/package.json" must be a path inside the job module's directory/],
    ['an absolute asset', { jobAssets: [projectFile('examples/data/corpus.txt')] }, /TidemarkJob jobAssets: .* must be a path inside/],
    ['a missing asset', { jobAssets: ['data/missing.txt'] }, /TidemarkJob jobAssets: "data\/missing.txt" does not exist/],
    ['assets that are no list', { jobAssets: 'data' }, /TidemarkJob jobAssets: must be an array/],
    ['a zero operator timeout', { operatorTimeout: Duration.seconds(0) }, /TidemarkJob operatorTimeout: must be between 1 second and 15 minutes, got 0 seconds/],
    ['an operator timeout beyond Lambda', { operatorTimeout: Duration.minutes(16) }, /TidemarkJob operatorTimeout: must be between/],
    ['a timeout that is no Duration', { operatorTimeout: 60 }, /TidemarkJob operatorTimeout: must be a Duration/],
    ['too little memory', { operatorMemorySize: 64 }, /TidemarkJob operatorMemorySize: must be an integer between 128 and 10240, got 64/],
    ['fractional memory', { coordinatorMemorySize: 512.5 }, /TidemarkJob coordinatorMemorySize: must be an integer/],
    ['a batch FIFO does not allow', { batchSize: 11 }, /TidemarkJob batchSize: must be an integer between 1 and 10, got 11/],
    ['no receives', { maxReceiveCount: 0 }, /TidemarkJob maxReceiveCount: must be an integer between 1 and 1000/],
    ['a coordinator timeout beyond Lambda', { coordinatorTimeout: Duration.minutes(20) }, /TidemarkJob coordinatorTimeout: must be between/],
    ['a staged expiration under a day', { stagedSinkExpiration: Duration.hours(12) }, /TidemarkJob stagedSinkExpiration: must be at least 1 day/],
    ['a staged expiration in part days', { stagedSinkExpiration: Duration.hours(36) }, /TidemarkJob stagedSinkExpiration: must be whole days/],
    ['an age threshold under SQS metric resolution', { oldestMessageAgeThreshold: Duration.seconds(30) }, /TidemarkJob oldestMessageAgeThreshold: must be at least 1 minute/],
    ['a removal policy a bucket cannot have', { removalPolicy: RemovalPolicy.SNAPSHOT }, /TidemarkJob removalPolicy: must be one of retain, destroy, retain-on-update-or-delete, got snapshot/],
    ['a log retention CloudWatch does not know', { logRetention: 7777 as RetentionDays }, /TidemarkJob logRetention: must be one of .* got 7777/],
    ['alarm actions that are no list', { alarmActions: {} }, /TidemarkJob alarmActions: must be an array/],
    ['an architecture Lambda does not run', { architecture: Architecture.custom('riscv64') }, /TidemarkJob architecture: must be one of/],
    ['a kill rate of 1', { faultInjection: { killRate: 1 } }, /TidemarkJob faultInjection.killRate: must be a number from 0 up to \(not including\) 1, got 1/],
    ['Kinesis streams that are no list', { kinesisStreams: 'orders' }, /TidemarkJob kinesisStreams: must be an array/],
    ['a kill rate that is no number', { faultInjection: { killRate: '0.1' } }, /TidemarkJob faultInjection.killRate: must be a number .* got "0.1"/],
  ];
  it.each(cases)('rejects %s, naming the prop', (_what, props, message) => {
    expect(construct(props)).toThrow(message);
  });

  it('rejects a job whose Kinesis source reads a stream it was not given, naming the source', async () => {
    const orders = await loadJob('examples/orders.ts');
    const { stack } = jobApp();
    const other = Stream.fromStreamArn(stack, 'Other', 'arn:aws:kinesis:eu-west-1:111122223333:stream/clicks');
    const make = (kinesisStreams: IStream[]) => () => new TidemarkJob(stack, `Job${kinesisStreams.length}`, { job: orders, jobModule: projectFile('examples/orders.ts'), kinesisStreams });
    expect(make([])).toThrow(/TidemarkJob kinesisStreams: source orders reads Kinesis stream "orders", which is not among them/);
    expect(make([other])).toThrow(/source orders reads Kinesis stream "orders"/);
  });
});

describe('helpers', () => {
  it('tick once a minute from EventBridge, with a timer only for sub-minute periods', () => {
    const settings = (interval: number | null) => ({ checkpoints: { interval } }) as Parameters<typeof heartbeatRate>[0];
    for (const interval of [null, 1000, 2000, 59_000, 60_000, 300_000]) expect(heartbeatRate(settings(interval)).toMinutes()).toBe(1);
    expect([null, 2000, 59_000, 60_000, 300_000].map((i) => needsTimer(settings(i)))).toEqual([true, true, true, false, false]);
  });

  it('find the files a job module opens relative to itself', () => {
    const source = [
      "const a = readFileSync(new URL('./data/corpus.txt', import.meta.url), 'utf8');",
      'const b = new URL("./b.json", import.meta.url);',
      "const c = new URL('../outside.txt', import.meta.url);",
      "const d = new URL(name, import.meta.url);",
      "const e = new URL('./data/corpus.txt', import.meta.url);",
    ].join('\n');
    expect(referencedAssets(source)).toEqual(['./data/corpus.txt', './b.json']);
  });

  it('cut the staged prefix of a sink from the key builder', () => {
    expect(stagedPrefix(jobName('wordcount'), 'out')).toBe('jobs/wordcount/sinks/out/staged/');
  });
});
