/**
 * The CDK app behind `npx cdk synth|deploy`: one stack for the job whose module is given as
 * `-c job=<path>` (default: the word-count example), checked by cdk-nag's AwsSolutions
 * pack. cdk.json runs this file through tsx, so job modules are plain TypeScript.
 *
 *   npx cdk deploy -c job=examples/wordcount.ts
 *
 * Two more context values, for chaos testing (what `tidemark deploy --local --kill-rate P`
 * passes): `-c killRate=P` deploys with `faultInjection: { killRate: P }`, and
 * `-c operatorTimeoutSeconds=S` sets `operatorTimeout`, so that a killed invocation's batch
 * comes back after 6·S seconds rather than six minutes. Without them the stack is the one
 * `cdk deploy` ships to AWS. A Kinesis source reads the stream of its name in the stack's
 * account and region.
 */
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Stream } from 'aws-cdk-lib/aws-kinesis';
import { AwsSolutionsChecks } from 'cdk-nag';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { JobBuilder } from '../lib/api/job.js';
import type { JobGraph } from '../lib/core/graph.js';
import { TidemarkJob } from './tidemark-job.js';

const DEFAULT_JOB = 'examples/wordcount.ts';

const app = new App();
const given = String(app.node.tryGetContext('job') ?? DEFAULT_JOB);
const jobModule = resolve(given);
if (!existsSync(jobModule)) throw new Error(`-c job=${given}: no such file (${jobModule})`);
const exported = ((await import(pathToFileURL(jobModule).href)) as { default?: JobBuilder | JobGraph }).default;
if (!exported) throw new Error(`-c job=${given}: the module has no default export; export the job (job(...) or its build())`);

const stack = new Stack(app, `Tidemark-${exported.name}`, {
  description: `Tidemark job ${exported.name}: exactly-once stream processing on SQS FIFO, Lambda, S3 and DynamoDB`,
});
const graph = 'build' in exported ? exported.build() : exported;
// The streams the job's Kinesis sources read, in the stack's account and region.
const kinesisStreams = [...new Set(graph.operators.flatMap((o) => (o.spec.kind === 'source' && o.spec.reader.input?.kind === 'stream' ? [o.spec.reader.input.stream] : [])))].map(
  (name) => Stream.fromStreamArn(stack, `Stream-${name}`, stack.formatArn({ service: 'kinesis', resource: 'stream', resourceName: name })),
);
const killRate = numberContext('killRate');
const operatorTimeoutSeconds = numberContext('operatorTimeoutSeconds');
new TidemarkJob(stack, 'Job', {
  job: exported,
  jobModule,
  kinesisStreams,
  ...(killRate === undefined ? {} : { faultInjection: { killRate } }),
  ...(operatorTimeoutSeconds === undefined ? {} : { operatorTimeout: Duration.seconds(operatorTimeoutSeconds) }),
});
// Synthesis stops on any finding that the construct has not acknowledged with a reason.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));

/** A numeric context value; the construct checks its range. */
function numberContext(name: string): number | undefined {
  const given: unknown = app.node.tryGetContext(name);
  if (given === undefined) return undefined;
  const value = Number(given);
  if (String(given).trim() === '' || !Number.isFinite(value)) throw new Error(`-c ${name}=${String(given)}: not a number`);
  return value;
}
