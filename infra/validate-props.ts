/**
 * Validation of TidemarkJob props and their defaults, run first in the constructor so a bad
 * prop fails the synth before anything is bundled, with an error naming the prop.
 */
import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import { Architecture } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { ConfigError, type CauseOption } from '../lib/core/errors.js';
import type { JobGraph } from '../lib/core/graph.js';
import { compileTopology, type Topology } from '../lib/core/topology.js';
import { resolveJobAssets, type JobAsset } from './job-assets.js';
import type { FaultInjection, TidemarkJobProps } from './props.js';

type Optional = 'serverAccessLogsBucket' | 'stagedSinkExpiration';
type Filled = Required<Omit<TidemarkJobProps, 'job' | 'jobAssets' | 'faultInjection' | Optional>> & Pick<TidemarkJobProps, Optional>;

/** Props with every default filled in, plus what the job compiles to. */
export interface ResolvedProps extends Filled {
  readonly graph: JobGraph;
  readonly topology: Topology;
  /** Absolute path of the job module. */
  readonly jobModule: string;
  readonly jobAssets: readonly JobAsset[];
  /** `faultInjection.killRate`, checked; absent without fault injection. */
  readonly killRate?: number;
}

/** Lambda's limits. */
const MAX_TIMEOUT = Duration.minutes(15);
const MEMORY = { min: 128, max: 10_240 };
/** SQS FIFO event sources take at most 10 messages per batch. */
const MAX_FIFO_BATCH = 10;
/** SQS's redrive policy accepts 1 to 1000 receives. */
const MAX_RECEIVE_COUNT = 1000;
const REMOVAL_POLICIES: readonly RemovalPolicy[] = [
  RemovalPolicy.RETAIN,
  RemovalPolicy.DESTROY,
  RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
];
const RETENTIONS = Object.values(RetentionDays).filter((v): v is RetentionDays => typeof v === 'number');
const JOB_MODULE_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs'];

/** A prop of TidemarkJob is invalid: a ConfigError whose field is `TidemarkJob <prop>`. */
export class PropError extends ConfigError {
  constructor(
    readonly prop: string,
    message: string,
    options?: CauseOption,
  ) {
    super(`TidemarkJob ${prop}`, message, options);
  }
}

export function validateProps(props: TidemarkJobProps): ResolvedProps {
  if (props === null || typeof props !== 'object') throw new PropError('props', 'are required');
  const graph = jobGraph(props.job);
  let topology: Topology;
  try {
    topology = compileTopology(graph);
  } catch (e) {
    throw new PropError('job', (e as Error).message, { cause: e });
  }
  const jobModule = validateJobModule(props.jobModule);
  const operatorTimeout = duration('operatorTimeout', props.operatorTimeout ?? Duration.minutes(1), Duration.seconds(1), MAX_TIMEOUT);
  const coordinatorTimeout = duration('coordinatorTimeout', props.coordinatorTimeout ?? Duration.minutes(5), Duration.seconds(1), MAX_TIMEOUT);
  const stagedSinkExpiration =
    props.stagedSinkExpiration === undefined ? undefined : duration('stagedSinkExpiration', props.stagedSinkExpiration, Duration.days(1));
  if (stagedSinkExpiration !== undefined && !Number.isInteger(stagedSinkExpiration.toMilliseconds() / 86_400_000)) {
    throw new PropError('stagedSinkExpiration', `must be whole days (an S3 lifecycle rule counts days), got ${stagedSinkExpiration.toHumanString()}`);
  }
  return {
    graph,
    topology,
    jobModule,
    jobAssets: resolveJobAssets(jobModule, props.jobAssets, (message) => new PropError('jobAssets', message)),
    operatorTimeout,
    operatorMemorySize: integer('operatorMemorySize', props.operatorMemorySize ?? 1024, MEMORY.min, MEMORY.max),
    batchSize: integer('batchSize', props.batchSize ?? MAX_FIFO_BATCH, 1, MAX_FIFO_BATCH),
    maxReceiveCount: integer('maxReceiveCount', props.maxReceiveCount ?? 5, 1, MAX_RECEIVE_COUNT),
    coordinatorTimeout,
    coordinatorMemorySize: integer('coordinatorMemorySize', props.coordinatorMemorySize ?? 512, MEMORY.min, MEMORY.max),
    architecture: oneOf('architecture', props.architecture ?? Architecture.ARM_64, [Architecture.ARM_64, Architecture.X86_64]),
    stagedSinkExpiration,
    logRetention: oneOf('logRetention', props.logRetention ?? RetentionDays.ONE_MONTH, RETENTIONS),
    serverAccessLogsBucket: props.serverAccessLogsBucket,
    // CloudWatch's SQS metrics come once a minute: a shorter threshold would only add noise.
    oldestMessageAgeThreshold: duration('oldestMessageAgeThreshold', props.oldestMessageAgeThreshold ?? Duration.minutes(15), Duration.minutes(1)),
    alarmActions: list('alarmActions', props.alarmActions),
    kinesisStreams: list('kinesisStreams', props.kinesisStreams),
    removalPolicy: oneOf('removalPolicy', props.removalPolicy ?? RemovalPolicy.RETAIN, REMOVAL_POLICIES),
    ...(props.faultInjection === undefined ? {} : { killRate: killRate(props.faultInjection) }),
  };
}

function killRate(f: FaultInjection): number {
  const rate = (f as { killRate?: unknown } | null)?.killRate;
  if (typeof rate !== 'number' || !(rate >= 0 && rate < 1)) {
    throw new PropError('faultInjection.killRate', `must be a number from 0 up to (not including) 1, got ${JSON.stringify(rate)}`);
  }
  return rate;
}

function jobGraph(job: unknown): JobGraph {
  if (job === null || typeof job !== 'object') {
    throw new PropError('job', 'is required: pass what job(...) returns, or its build()');
  }
  try {
    // Duck-typed rather than instanceof: the user's app may load its own copy of the API.
    const built = typeof (job as { build?: unknown }).build === 'function' ? (job as { build(): JobGraph }).build() : (job as JobGraph);
    if (typeof built.name !== 'string' || !Array.isArray(built.operators)) throw new PropError('job', 'is not a job: pass what job(...) returns, or its build()');
    return built;
  } catch (e) {
    throw e instanceof PropError ? e : new PropError('job', (e as Error).message, { cause: e });
  }
}

function validateJobModule(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw new PropError('jobModule', 'is required: the path of the module that default-exports the job');
  const file = resolve(value);
  if (!existsSync(file) || !statSync(file).isFile()) throw new PropError('jobModule', `${JSON.stringify(value)} is not a file`);
  if (!JOB_MODULE_EXTENSIONS.includes(extname(file))) {
    throw new PropError('jobModule', `must be a ${JOB_MODULE_EXTENSIONS.join(', ')} module, got ${JSON.stringify(value)}`);
  }
  // Asset paths under the module's directory are quoted into the bundler's shell commands.
  if (/["$`]/.test(file)) throw new PropError('jobModule', `path must not contain quotes, '$' or backquotes: ${JSON.stringify(value)}`);
  return file;
}

function duration(prop: string, value: unknown, min: Duration, max?: Duration): Duration {
  if (!(value instanceof Duration)) throw new PropError(prop, 'must be a Duration');
  // Sizes derive from it (visibility timeouts), so a deploy-time token cannot do.
  const ms = value.toMilliseconds();
  if (Token.isUnresolved(ms) || !Number.isFinite(ms)) throw new PropError(prop, 'must be a concrete Duration, not a token');
  if (ms < min.toMilliseconds() || (max !== undefined && ms > max.toMilliseconds())) {
    const range = max === undefined ? `at least ${min.toHumanString()}` : `between ${min.toHumanString()} and ${max.toHumanString()}`;
    throw new PropError(prop, `must be ${range}, got ${value.toHumanString()}`);
  }
  return value;
}

function integer(prop: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new PropError(prop, `must be an integer between ${min} and ${max}, got ${String(value)}`);
  }
  return value;
}

function list<T>(prop: string, value: readonly T[] | undefined): T[] {
  if (value !== undefined && !Array.isArray(value)) throw new PropError(prop, 'must be an array');
  return [...(value ?? [])];
}

function oneOf<T>(prop: string, value: T, allowed: readonly T[]): T {
  if (!allowed.includes(value)) throw new PropError(prop, `must be one of ${allowed.map(String).join(', ')}, got ${String(value)}`);
  return value;
}
