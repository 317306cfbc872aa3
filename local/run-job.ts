/**
 * `tidemark run`: runs a job file locally to completion (or for a duration), shows progress,
 * prints the checkpoint table, and compares what the sinks committed with a sequential
 * evaluation of the same job.
 *
 * The run's own calls (starting the job, and watch-job's polling, restore, stop, reading and
 * verifying) go over the same wire as the job's, so each is made `patiently`: a transient
 * failure is retried with backoff, and only one that keeps failing ends the run.
 */
import type { WireFaultOptions } from '../lib/adapters/aws/wire-faults.js';
import { JobStateError } from '../lib/core/errors.js';
import type { JobGraph } from '../lib/core/graph.js';
import { LOCAL_RUN_PROFILE } from '../lib/core/resource-spec.js';
import { compileTopology } from '../lib/core/topology.js';
import { checkpointPacedFlow } from '../lib/runtime/flow-control.js';
import { inputFiles, loadInputs } from './inputs.js';
import { loadJob, type JobModule } from './job-file.js';
import { LocalLambdaHost } from './lambda-host.js';
import { patiently, type Patience } from './retry.js';
import type { RunSummary } from './run-summary.js';
import { jobOutcome, reportingPatience, watchedSummary, watchJob, type Watched } from './watch-job.js';
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
  /** Start over when the emulator already holds a job of this name (local/fresh-start.ts). */
  readonly fresh?: boolean;
  /** Lines of the run's report (stdout; stderr with `--json`). Print sinks write here too. */
  readonly out: (line: string) => void;
  readonly progress: ((line: string) => void) | null;
  /** Diagnostics: the coordinator's metric lines, retries of the run's own calls. @default stderr */
  readonly log?: (line: string) => void;
  /** How long the run's own calls keep retrying transient failures. @default 60 s in all */
  readonly patience?: Patience;
  /** Called once the job is started, with the world it runs in (`dev` records it). */
  readonly onStarted?: (world: LocalWorld, job: string) => void;
  /** Called with the summary while the emulator and the host are still up; they stop when it returns. */
  readonly whileUp?: (summary: RunSummary, host: HostControl) => Promise<void>;
}

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
    if (world.aws) {
      // An emulator the run did not start may hold the job already: refused, or --fresh starts it over.
      const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
      const { admitRun } = await import('./fresh-start.js');
      await admitRun(world, graph, topology, { jobFile: options.jobFile, fresh: options.fresh ?? false, reloadedLogs: logsLoaded(graph, files), patience: reportingPatience(log, options.patience), log });
    }
    for (const l of await loadInputs(world.ports, graph, files)) options.out(`input ${l.source}: ${l.lines} lines from ${l.file} into ${l.where}`);
    return await runOn(world, graph, module, options);
  } finally {
    await world.close();
  }
}

/** The log sources this run loads input into. */
function logsLoaded(graph: JobGraph, files: ReadonlyMap<string, string>): string[] {
  return graph.operators.flatMap((op) => (files.has(op.name) && op.spec.kind === 'source' && op.spec.reader.input?.kind === 'log' ? [op.spec.reader.input.log] : []));
}

/** What `whileUp` may do with the run's host: run another version of the job's code on it. */
export interface HostControl {
  /** Stops the host, creates what the file's version needs, and starts a host on its code. */
  reload(jobFile: string): Promise<void>;
}

async function runOn(world: LocalWorld, graph: JobGraph, module: JobModule, options: RunOptions): Promise<RunSummary> {
  const { ports } = world;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const patience = reportingPatience(log, options.patience);
  const hostFor = (g: JobGraph) =>
    new LocalLambdaHost(g, world.jobPorts, {
      billing: world.billing,
      visibilityTimeoutMs: LOCAL_RUN_PROFILE.visibilityTimeoutSeconds * 1000,
      killRate: options.killRate,
      coordinator: { restoreLeaseMs: 10_000 },
      metrics: log,
      runtime: { print: options.out, ...(world.kind === 'memory' ? {} : { flow: checkpointPacedFlow(ports.queue, g.checkpoints.interval, () => ports.clock.now()) }) },
    });
  let host = hostFor(graph);
  await patiently(`starting job ${graph.name}`, () => host.recovery.start(), patience);
  host.start();
  options.onStarted?.(world, graph.name);
  const control: HostControl = {
    reload: async (jobFile) => {
      const next = await loadJob(jobFile, options.interval);
      if (next.graph.name !== graph.name) throw new JobStateError(`${jobFile} is job ${next.graph.name}, not ${graph.name}`);
      await patiently(`creating the queues of ${jobFile}`, () => world.provision(compileTopology(next.graph)), patience);
      await host.stop();
      host = hostFor(next.graph);
      host.start();
    },
  };
  try {
    const watched = await watchJob(ports, graph, {
      ...options,
      patience,
      counters: () => ({ ...host.records, kills: host.stats.kills }),
      restore: (command) => host.recovery.restore(command),
    });
    // A run stops its host before reading the output, so the requests it reports are the
    // job's own; `tidemark dev` keeps the emulator and the host up (for the other commands)
    // until `whileUp` returns. Stopping twice is harmless.
    if (!options.whileUp) await host.stop();
    const summary = await summarize(world, graph, module, options, patience, host, watched);
    await options.whileUp?.(summary, control);
    return summary;
  } finally {
    await host.stop();
  }
}

async function summarize(
  world: LocalWorld,
  graph: JobGraph,
  module: JobModule,
  options: RunOptions,
  patience: Patience,
  host: LocalLambdaHost,
  watched: Watched,
): Promise<RunSummary> {
  const outcome = await jobOutcome(world.ports, graph, module, watched.job?.status, {
    ...options,
    patience,
    location: world.location,
    table: compileTopology(graph).resources.table,
  });
  return watchedSummary(watched, outcome, {
    job: graph.name,
    world: world.kind,
    kills: host.stats.kills,
    sourceRecords: host.records.sourceRecords,
    requests: world.requests,
    billing: world.billing.units,
    wireFaults: options.wireFaults && world.injected ? { ...options.wireFaults, injected: world.injected } : null,
    ...(options.restoreAt === undefined ? {} : { restoreAt: options.restoreAt }),
  });
}
