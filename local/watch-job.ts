/**
 * Watching a running job until it ends, for `tidemark run` and `tidemark deploy --local`:
 * poll the job item and the recent checkpoints, draw the progress line, force one restore
 * (`--restore-at`) and ask for a stop with a savepoint (`--duration`). Afterwards, what
 * the job left: each sink's committed output, the dead letters, and the exactly-once check.
 *
 * Every call is made `patiently` (the run's own calls go over the same wire as the job's)
 * and is idempotent: reads, conditional writes, and a restore fenced by the generation seen.
 */
import { costReport, type BillingUnits } from '../lib/core/cost.js';
import type { JobGraph, SinkSpec } from '../lib/core/graph.js';
import { JobStateError } from '../lib/core/errors.js';
import { isFinalStatus } from '../lib/core/job-status.js';
import { hasCompleted, type CheckpointRecord, type JobRecord } from '../lib/core/manifest.js';
import { blobKeys, tableKeys } from '../lib/core/wire/storage-keys.js';
import type { Ports } from '../lib/ports/index.js';
import { updateJob } from '../lib/runtime/job-records.js';
import type { RestoreCommand } from '../lib/runtime/recovery-manager.js';
import { readSinkOutput } from '../lib/runtime/sink-reader.js';
import type { JobModule } from './job-file.js';
import { patiently, type Patience } from './retry.js';
import { checkpointRow } from './checkpoint-table.js';
import { lastFailureOf, progressLine, restartsOf, type Counters, type RunSummary, type SinkSummary } from './run-summary.js';
import { verifyRun } from './verify.js';

const POLL_MS = 200;

export interface WatchOptions {
  /** Force one restore from the latest checkpoint after this many completed checkpoints. */
  readonly restoreAt?: number;
  /** Stop with a savepoint after this many seconds if the job has not ended. */
  readonly durationSeconds?: number;
  readonly progress: ((line: string) => void) | null;
  readonly patience: Patience;
  /** Record and kill counts for the progress line, where the watcher can see them. */
  readonly counters?: () => Counters;
  /** Starts a restore (the recovery manager's `restore`). */
  readonly restore: (command: RestoreCommand) => Promise<unknown>;
}

export interface Watched {
  readonly startedAt: number;
  readonly job: JobRecord | null;
  readonly checkpoints: ReadonlyMap<number, CheckpointRecord>;
  readonly restores: number;
  /** Why each generation started, as observed while the job ran. */
  readonly generations: string[];
}

/** Refuses a job that already ended on this endpoint: its old output would be checked. */
export async function refuseEndedJob(ports: Ports, graph: JobGraph, patience: Patience, advice: string): Promise<void> {
  const before = await patiently(`reading the job item of ${graph.name}`, () => ports.manifest.getJob(graph.name), patience);
  if (before && isFinalStatus(before.status)) {
    throw new JobStateError(`job ${graph.name} already ran on this endpoint and is ${before.status}${before.detail ? ` (${before.detail})` : ''}: ${advice}`);
  }
}

export async function watchJob(ports: Ports, graph: JobGraph, options: WatchOptions): Promise<Watched> {
  const { patience } = options;
  const seen = new Map<number, CheckpointRecord>();
  const startedAt = Date.now();
  const generations: string[] = [];
  let job: JobRecord | null = null;
  let lastGen = 0;
  let restores = 0;
  let stopRequested = false;
  for (;;) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    job = await patiently(`reading the job item of ${graph.name}`, () => ports.manifest.getJob(graph.name), patience);
    if (job && job.gen !== lastGen && (job.restore || job.status === 'RUNNING')) {
      lastGen = job.gen;
      generations.push(`generation ${job.gen}: ${job.restore?.reason ?? job.detail ?? ''}`);
    }
    const recent = await patiently(`listing the checkpoints of ${graph.name}`, () => ports.manifest.listCheckpoints(graph.name, { limit: 20 }), patience);
    for (const c of recent) seen.set(c.id, c);
    options.progress?.(progressLine({ elapsedMs: Date.now() - startedAt, counters: options.counters?.() ?? null, job }, seen));
    if (!job || isFinalStatus(job.status)) break;
    const completed = [...seen.values()].filter(hasCompleted).length;
    if (options.restoreAt !== undefined && restores === 0 && completed >= options.restoreAt && job.status === 'RUNNING') {
      restores++;
      // Fenced by the generation seen: a retry after a bump that landed resumes that restore.
      const command = { request: { kind: 'latest' } as const, reason: `forced by --restore-at ${options.restoreAt}`, expectGen: job.gen };
      await patiently(`restoring ${graph.name}`, () => options.restore(command), patience);
    }
    if (options.durationSeconds !== undefined && !stopRequested && Date.now() - startedAt > options.durationSeconds * 1000) {
      stopRequested = true;
      const stop = { name: `stop-${Date.now()}`, stop: true };
      await patiently(`asking ${graph.name} to stop`, () => updateJob(ports.manifest, graph.name, (j) => (j.status === 'RUNNING' ? { ...j, savepointRequest: stop } : null)), patience);
    }
  }
  return { startedAt, job, checkpoints: seen, restores, generations };
}

export interface OutcomeOptions {
  readonly verify: boolean;
  readonly json: boolean;
  readonly patience: Patience;
  /** Where a blob prefix of the job's bucket can be seen (an s3:// URL and its endpoint). */
  readonly location: (prefix: string) => string;
  /** The job's table (a DynamoDB sink's rows are there). */
  readonly table: string;
}

/** What the job left: its sinks' output, its dead letters, and the exactly-once verdict. */
export async function jobOutcome(
  ports: Ports,
  graph: JobGraph,
  module: JobModule,
  status: string | undefined,
  options: OutcomeOptions,
): Promise<Pick<RunSummary, 'sinks' | 'deadLetters' | 'exactlyOnce'>> {
  const { patience } = options;
  const sinks: Record<string, SinkSummary> = {};
  for (const op of graph.operators) {
    if (op.spec.kind !== 'sink') continue;
    const records = (await patiently(`reading the output of sink ${op.name}`, () => readSinkOutput(ports, graph, op.name), patience)) ?? [];
    sinks[op.name] = { location: sinkLocation(options, graph, op.spec.sink, op.name), records: records.length, sample: records.slice(0, 5) };
  }
  const deadLetterPrefix = blobKeys.deadLettersPrefix(graph.name);
  const deadLetters = (await patiently('listing the dead letters', () => ports.blobs.list(deadLetterPrefix), patience)).length;
  const exactlyOnce =
    options.verify && status === 'FINISHED' ? await patiently('verifying the output', () => verifyRun(ports, graph, module.describeResult), patience) : null;
  return { sinks, deadLetters: { count: deadLetters, location: options.location(deadLetterPrefix) }, exactlyOnce };
}

function sinkLocation(options: OutcomeOptions, graph: JobGraph, spec: SinkSpec, name: string): string {
  switch (spec.kind) {
    case 'collect':
      return options.location(blobKeys.committedPrefix(graph.name, name));
    case 's3':
      return options.location(blobKeys.jobObject(graph.name, spec.prefix));
    case 'dynamodb':
      return `table ${options.table}, pk ${tableKeys.outputPk(graph.name, name)}`;
    case 'print':
      return options.json ? 'stderr' : 'stdout';
  }
}

/** What a watched run reports besides what the job item and checkpoints say. */
export interface SummaryFacts {
  readonly job: string;
  readonly world: string;
  readonly kills: number;
  readonly sourceRecords: number;
  readonly requests: RunSummary['requests'];
  /** The job's billing units, where the run can count them (the local host); the cost is null without. */
  readonly billing?: BillingUnits | null;
  readonly wireFaults: RunSummary['wireFaults'];
  /** The `--restore-at` asked for: a note says when the job ended before it. */
  readonly restoreAt?: number;
  /** Where the checkpoint table's clock starts. @default the watch's start */
  readonly startedAt?: number;
  /** @default the generations the watch saw */
  readonly generations?: string[];
}

/** The summary of a watched run (`run`, `dev`, `deploy --local`, `restore --wait`). */
export function watchedSummary(watched: Watched, outcome: Pick<RunSummary, 'sinks' | 'deadLetters' | 'exactlyOnce'>, facts: SummaryFacts): RunSummary {
  const { job } = watched;
  return {
    job: facts.job,
    startedAt: facts.startedAt ?? watched.startedAt,
    world: facts.world,
    kills: facts.kills,
    restores: watched.restores,
    ...(facts.restoreAt !== undefined && watched.restores === 0 ? { note: `the job finished before ${facts.restoreAt} checkpoints completed: no restore was forced` } : {}),
    generations: facts.generations ?? watched.generations,
    requests: facts.requests,
    wireFaults: facts.wireFaults,
    status: job?.status ?? 'UNKNOWN',
    detail: job?.detail ?? null,
    generation: job?.gen ?? 0,
    restarts: restartsOf(job),
    lastFailure: lastFailureOf(job),
    elapsedMs: Date.now() - watched.startedAt,
    sourceRecords: facts.sourceRecords,
    checkpoints: [...watched.checkpoints.values()].map(checkpointRow),
    cost: facts.billing ? runCost(facts.billing, watched, facts.sourceRecords, facts.world) : null,
    ...outcome,
  };
}

function runCost(units: BillingUnits, watched: Watched, sourceRecords: number, world: string): RunSummary['cost'] {
  const completedCheckpoints = [...watched.checkpoints.values()].filter(hasCompleted).length;
  const notes = [
    'Lambda GB-seconds from local, in-process invocation durations (not what AWS would measure)',
    world === 'memory' ? 'DynamoDB units modelled on the AWS adapters’ calls (lib/adapters/memory/metered-ports.ts)' : 'DynamoDB units as the emulator reported them (ConsumedCapacity), else computed from item sizes',
    'storage, data transfer, EventBridge and CloudWatch not counted; no free tier',
  ];
  return costReport(units, { completedCheckpoints, sourceRecords, notes });
}

/** Retries of the run's own calls are reported on `log`. */
export function reportingPatience(log: (line: string) => void, patience: Patience | undefined): Patience {
  return { onRetry: (what, attempt, e) => log(`retrying ${what} (attempt ${attempt + 1}): ${e.message}`), ...patience };
}
