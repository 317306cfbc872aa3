/**
 * `tidemark run`: runs a job file locally to completion (or for a duration), shows progress,
 * prints the checkpoint table, and compares what the sinks committed with a sequential
 * evaluation of the same job.
 *
 * The run's own calls (starting the job, polling its status, the forced restore, the stop
 * request, reading the sinks' output and verifying it) go over the same wire as the job's,
 * so each is made `patiently`: a transient failure is retried with backoff, and only one
 * that keeps failing ends the run. Each of them is idempotent: reads, conditional writes,
 * and a restore fenced by the generation it was asked for.
 */
import { JobStateError } from '../lib/core/errors.js';
import type { WireFaultOptions } from '../lib/adapters/aws/wire-faults.js';
import type { JobGraph, SinkSpec } from '../lib/core/graph.js';
import type { CheckpointRecord, JobRecord } from '../lib/core/manifest.js';
import { blobKeys, tableKeys } from '../lib/core/storage-keys.js';
import { LOCAL_RUN_PROFILE } from '../lib/core/resource-spec.js';
import { compileTopology } from '../lib/core/topology.js';
import { queueDepthFlow } from '../lib/runtime/flow-control.js';
import { updateJob } from '../lib/runtime/job-records.js';
import { readSinkOutput } from '../lib/runtime/sink-reader.js';
import { checkpointRow } from './checkpoint-table.js';
import { inputFiles, loadInputs } from './inputs.js';
import { loadJob, type JobModule } from './job-file.js';
import { LocalLambdaHost } from './lambda-host.js';
import { patiently, type Patience } from './retry.js';
import { lastFailureOf, progressLine, restartsOf, type RunSummary, type SinkSummary } from './run-summary.js';
import { verifyRun } from './verify.js';
import { openWorld, type LocalWorld } from './worlds.js';

export { loadJob } from './job-file.js';
export { printSummary, type RunSummary, type SinkSummary } from './run-summary.js';

export interface RunOptions {
  readonly jobFile: string;
  /** Override of the checkpoint interval (ms). */
  readonly interval?: number;
  /** Stop after this many seconds (stop-with-savepoint) if the job has not finished. */
  readonly durationSeconds?: number;
  /** Records the job should read (sets TIDEMARK_RECORDS, which the examples honour). */
  readonly records?: number;
  /** Fraction of operator invocations that die at a random protocol step. */
  readonly killRate: number;
  /** Force one restore from the latest checkpoint after this many completed checkpoints. */
  readonly restoreAt?: number;
  /** Faults on the wire of every AWS call (needs an emulator). */
  readonly wireFaults?: WireFaultOptions;
  /** Run on the in-memory adapters instead of an emulator. */
  readonly memory: boolean;
  /** `source=path` inputs besides (or instead of) the ones the job module names. */
  readonly inputs?: readonly string[];
  readonly verify: boolean;
  readonly json: boolean;
  /** Lines of the run's report (stdout; stderr with `--json`). Print sinks write here too. */
  readonly out: (line: string) => void;
  readonly progress: ((line: string) => void) | null;
  /** Diagnostics: the coordinator's metric lines, retries of the run's own calls. @default stderr */
  readonly log?: (line: string) => void;
  /** How long the run's own calls keep retrying transient failures. @default 60 s in all */
  readonly patience?: Patience;
}

const POLL_MS = 200;

export async function runJob(options: RunOptions): Promise<RunSummary> {
  if (options.records !== undefined) process.env.TIDEMARK_RECORDS = String(options.records);
  const { graph, module } = await loadJob(options.jobFile, options.interval);
  const files = inputFiles(options.jobFile, module.inputs, options.inputs ?? []);
  const topology = compileTopology(graph);
  const world = await openWorld(topology, {
    memory: options.memory,
    ...LOCAL_RUN_PROFILE,
    log: options.out,
    ...(options.wireFaults ? { wireFaults: options.wireFaults } : {}),
  });
  try {
    for (const l of await loadInputs(world.ports, graph, files)) options.out(`input ${l.source}: ${l.lines} lines from ${l.file} into ${l.where}`);
    return await runOn(world, graph, module, options);
  } finally {
    await world.close();
  }
}

async function runOn(world: LocalWorld, graph: JobGraph, module: JobModule, options: RunOptions): Promise<RunSummary> {
  const { ports } = world;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const patience: Patience = { onRetry: (what, attempt, e) => log(`retrying ${what} (attempt ${attempt + 1}): ${e.message}`), ...options.patience };
  const host = new LocalLambdaHost(graph, ports, {
    visibilityTimeoutMs: LOCAL_RUN_PROFILE.visibilityTimeoutSeconds * 1000,
    killRate: options.killRate,
    coordinator: { restoreLeaseMs: 10_000 },
    metrics: log,
    runtime: { print: options.out, ...(world.kind === 'memory' ? {} : { flow: queueDepthFlow(ports.queue, { maxDepth: 8 }) }) },
  });
  const seen = new Map<number, CheckpointRecord>();
  const started = Date.now();
  // A job that already ended there (an external endpoint keeps it) would look finished at
  // once and its old output would be checked: refuse instead of reporting a run that did not happen.
  const before = await patiently(`reading the job item of ${graph.name}`, () => ports.manifest.getJob(graph.name), patience);
  if (before && ['FINISHED', 'FAILED', 'STOPPED'].includes(before.status)) {
    throw new JobStateError(`job ${graph.name} already ran on this endpoint and is ${before.status}${before.detail ? ` (${before.detail})` : ''}: give the job another name, or use a fresh emulator`);
  }
  await patiently(`starting job ${graph.name}`, () => host.recovery.start(), patience);
  host.start();
  let job: JobRecord | null = null;
  let stopRequested = false;
  let restores = 0;
  const generations: string[] = [];
  let lastGen = 0;
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      job = await patiently(`reading the job item of ${graph.name}`, () => ports.manifest.getJob(graph.name), patience);
      if (job && job.gen !== lastGen && (job.restore || job.status === 'RUNNING')) {
        lastGen = job.gen;
        generations.push(`generation ${job.gen}: ${job.restore?.reason ?? job.detail ?? ''}`);
      }
      const recent = await patiently(`listing the checkpoints of ${graph.name}`, () => ports.manifest.listCheckpoints(graph.name, { limit: 20 }), patience);
      for (const c of recent) seen.set(c.id, c);
      const r = host.records;
      options.progress?.(progressLine({ elapsedMs: Date.now() - started, sourceRecords: r.sourceRecords, recordsToSinks: r.recordsToSinks, kills: host.stats.kills, job }, seen));
      if (!job || ['FINISHED', 'FAILED', 'STOPPED'].includes(job.status)) break;
      const completed = [...seen.values()].filter((c) => c.status === 'COMPLETED').length;
      if (options.restoreAt !== undefined && restores === 0 && completed >= options.restoreAt && job.status === 'RUNNING') {
        restores++;
        // Fenced by the generation seen: a retry after a bump that landed resumes that restore.
        const command = { request: { kind: 'latest' } as const, reason: `forced by --restore-at ${options.restoreAt}`, expectGen: job.gen };
        await patiently(`restoring ${graph.name}`, () => host.recovery.restore(command), patience);
      }
      if (options.durationSeconds !== undefined && !stopRequested && Date.now() - started > options.durationSeconds * 1000) {
        stopRequested = true;
        const stop = { name: `stop-${Date.now()}`, stop: true };
        await patiently(`asking ${graph.name} to stop`, () =>
          updateJob(ports.manifest, graph.name, (j) => (j.status === 'RUNNING' ? { ...j, savepointRequest: stop } : null)),
          patience,
        );
      }
    }
  } finally {
    await host.stop();
  }
  const sinks: Record<string, SinkSummary> = {};
  for (const op of graph.operators) {
    if (op.spec.kind !== 'sink') continue;
    const records = (await patiently(`reading the output of sink ${op.name}`, () => readSinkOutput(ports, graph, op.name), patience)) ?? [];
    sinks[op.name] = { location: sinkLocation(world, graph, op.spec.sink, op.name, options.json), records: records.length, sample: records.slice(0, 5) };
  }
  const deadLetterPrefix = `${blobKeys.jobPrefix(graph.name)}dead-letters/`;
  const deadLetters = (await patiently('listing the dead letters', () => ports.blobs.list(deadLetterPrefix), patience)).length;
  const exactlyOnce =
    options.verify && job?.status === 'FINISHED' ? await patiently('verifying the output', () => verifyRun(ports, graph, module.describeResult), patience) : null;
  return {
    job: graph.name,
    startedAt: started,
    world: world.kind,
    kills: host.stats.kills,
    restores,
    ...(options.restoreAt !== undefined && restores === 0 ? { note: `the job finished before ${options.restoreAt} checkpoints completed: no restore was forced` } : {}),
    generations,
    requests: world.requests,
    wireFaults: options.wireFaults && world.injected ? { ...options.wireFaults, injected: world.injected } : null,
    status: job?.status ?? 'UNKNOWN',
    detail: job?.detail ?? null,
    generation: job?.gen ?? 0,
    restarts: restartsOf(job),
    lastFailure: lastFailureOf(job),
    elapsedMs: Date.now() - started,
    sourceRecords: host.records.sourceRecords,
    checkpoints: [...seen.values()].map(checkpointRow),
    sinks,
    deadLetters: { count: deadLetters, location: world.location(deadLetterPrefix) },
    exactlyOnce,
  };
}

function sinkLocation(world: LocalWorld, graph: JobGraph, spec: SinkSpec, name: string, json: boolean): string {
  switch (spec.kind) {
    case 'collect':
      return world.location(blobKeys.committedPrefix(graph.name, name));
    case 's3':
      return world.location(`${blobKeys.jobPrefix(graph.name)}${spec.prefix}`);
    case 'dynamodb':
      return `table ${compileTopology(graph).resources.table}, pk ${tableKeys.outputPk(graph.name, name)}`;
    case 'print':
      return json ? 'stderr' : 'stdout';
  }
}
