/**
 * `tidemark run`: runs a job file locally to completion (or for a duration), shows progress,
 * prints the checkpoint table, and compares what the sinks committed with a sequential
 * evaluation of the same job.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JobBuilder } from '../lib/api/job.js';
import { checkpointSettings } from '../lib/core/config.js';
import { ConfigError } from '../lib/core/errors.js';
import type { JobGraph, SinkSpec } from '../lib/core/graph.js';
import type { CheckpointRecord, JobRecord } from '../lib/core/manifest.js';
import { compileTopology } from '../lib/core/topology.js';
import { queueDepthFlow } from '../lib/runtime/flow-control.js';
import { updateJob } from '../lib/runtime/job-records.js';
import { readSinkOutput } from '../lib/runtime/sink-reader.js';
import { inputFiles, loadInputs } from './inputs.js';
import { verifyRun } from './verify.js';
import { checkpointRow, formatCheckpointTable, type CheckpointRow } from './checkpoint-table.js';
import { LocalLambdaHost } from './lambda-host.js';
import { openWorld, type LocalWorld } from './worlds.js';
import { blobKeys, tableKeys } from '../lib/core/storage-keys.js';

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
  /** Run on the in-memory adapters instead of an emulator. */
  readonly memory: boolean;
  /** `source=path` inputs besides (or instead of) the ones the job module names. */
  readonly inputs?: readonly string[];
  readonly verify: boolean;
  readonly json: boolean;
  readonly out: (line: string) => void;
  readonly progress: ((line: string) => void) | null;
}

export interface SinkSummary {
  readonly location: string;
  readonly records: number;
  readonly sample: unknown[];
}

export interface RunSummary {
  readonly job: string;
  readonly startedAt: number;
  readonly world: LocalWorld['kind'];
  readonly kills: number;
  readonly restores: number;
  readonly note?: string;
  /** Why each generation started, as observed while the job ran. */
  readonly generations: string[];
  readonly requests: LocalWorld['requests'];
  readonly status: string;
  readonly detail: string | null;
  readonly generation: number;
  readonly elapsedMs: number;
  readonly sourceRecords: number;
  readonly checkpoints: CheckpointRow[];
  readonly sinks: Record<string, SinkSummary>;
  /** Input the sources could not read, kept with where it came from. */
  readonly deadLetters: { readonly count: number; readonly location: string };
  readonly exactlyOnce: { readonly ok: boolean; readonly summary: string; readonly differences: string[] } | null;
}

interface JobModule {
  default?: JobBuilder | JobGraph;
  /** Optional: describes committed results for the summary line, e.g. "118 words". */
  describeResult?: (records: unknown[]) => string;
  /** Optional: per source, a file to load first (relative to the module). */
  inputs?: Record<string, string>;
}

export async function loadJob(file: string, interval?: number): Promise<{ graph: JobGraph; module: JobModule }> {
  const module = (await import(pathToFileURL(resolve(file)).href)) as JobModule;
  const exported = module.default;
  if (!exported) throw new ConfigError('job', `${file} has no default export; export the job (job(...) or its build())`);
  let graph = exported instanceof JobBuilder ? exported.build() : exported;
  if (interval !== undefined) graph = { ...graph, checkpoints: checkpointSettings({ ...graph.checkpoints, interval }) };
  return { graph, module };
}

/** A local visibility timeout: a killed invocation's messages come back after it. */
const VISIBILITY_SECONDS = 5;

export async function runJob(options: RunOptions): Promise<RunSummary> {
  if (options.records !== undefined) process.env.TIDEMARK_RECORDS = String(options.records);
  const { graph, module } = await loadJob(options.jobFile, options.interval);
  const files = inputFiles(options.jobFile, module.inputs, options.inputs ?? []);
  const topology = compileTopology(graph);
  const world = await openWorld(topology, {
    memory: options.memory,
    visibilityTimeoutSeconds: VISIBILITY_SECONDS,
    maxReceiveCount: 10,
    log: options.out,
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
  const host = new LocalLambdaHost(graph, ports, {
    visibilityTimeoutMs: VISIBILITY_SECONDS * 1000,
    killRate: options.killRate,
    coordinator: { restoreLeaseMs: 10_000 },
    runtime: world.kind === 'memory' ? {} : { flow: queueDepthFlow(ports.queue, { maxDepth: 8 }) },
  });
  const seen = new Map<number, CheckpointRecord>();
  const started = Date.now();
  await host.recovery.start();
  host.start();
  let job: JobRecord | null = null;
  let stopRequested = false;
  let restores = 0;
  const generations: string[] = [];
  let lastGen = 0;
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      job = await ports.manifest.getJob(graph.name);
      if (job && job.gen !== lastGen && (job.restore || job.status === 'RUNNING')) {
        lastGen = job.gen;
        generations.push(`generation ${job.gen}: ${job.restore?.reason ?? job.detail ?? ''}`);
      }
      for (const c of await ports.manifest.listCheckpoints(graph.name, { limit: 20 })) seen.set(c.id, c);
      options.progress?.(progressLine(host, seen, started));
      if (!job || ['FINISHED', 'FAILED', 'STOPPED'].includes(job.status)) break;
      const completed = [...seen.values()].filter((c) => c.status === 'COMPLETED').length;
      if (options.restoreAt !== undefined && restores === 0 && completed >= options.restoreAt && job.status === 'RUNNING') {
        restores++;
        await host.recovery.restore({ request: { kind: 'latest' }, reason: `forced by --restore-at ${options.restoreAt}` });
      }
      if (options.durationSeconds !== undefined && !stopRequested && Date.now() - started > options.durationSeconds * 1000) {
        stopRequested = true;
        await updateJob(ports.manifest, graph.name, (j) => (j.status === 'RUNNING' ? { ...j, savepointRequest: { name: `stop-${Date.now()}`, stop: true } } : null));
      }
    }
  } finally {
    await host.stop();
  }
  const sinks: Record<string, SinkSummary> = {};
  for (const op of graph.operators) {
    if (op.spec.kind !== 'sink') continue;
    const records = (await readSinkOutput(ports, graph, op.name)) ?? [];
    sinks[op.name] = { location: sinkLocation(world, graph, op.spec.sink, op.name), records: records.length, sample: records.slice(0, 5) };
  }
  const deadLetters = (await ports.blobs.list(`${blobKeys.jobPrefix(graph.name)}dead-letters/`)).length;
  const exactlyOnce = options.verify && job?.status === 'FINISHED' ? await verifyRun(ports, graph, module.describeResult) : null;
  return {
    job: graph.name,
    startedAt: started,
    world: world.kind,
    kills: host.stats.kills,
    restores,
    ...(options.restoreAt !== undefined && restores === 0 ? { note: `the job finished before ${options.restoreAt} checkpoints completed: no restore was forced` } : {}),
    generations,
    requests: world.requests,
    status: job?.status ?? 'UNKNOWN',
    detail: job?.detail ?? null,
    generation: job?.gen ?? 0,
    elapsedMs: Date.now() - started,
    sourceRecords: host.records.sourceRecords,
    checkpoints: [...seen.values()].map(checkpointRow),
    sinks,
    deadLetters: { count: deadLetters, location: world.location(`${blobKeys.jobPrefix(graph.name)}dead-letters/`) },
    exactlyOnce,
  };
}

function sinkLocation(world: LocalWorld, graph: JobGraph, spec: SinkSpec, name: string): string {
  switch (spec.kind) {
    case 'collect':
      return world.location(blobKeys.committedPrefix(graph.name, name));
    case 's3':
      return world.location(`${blobKeys.jobPrefix(graph.name)}${spec.prefix}`);
    case 'dynamodb':
      return `table ${compileTopology(graph).resources.table}, pk ${tableKeys.outputPk(graph.name, name)}`;
    case 'print':
      return 'stdout';
  }
}

function progressLine(host: LocalLambdaHost, seen: Map<number, CheckpointRecord>, started: number): string {
  const completed = [...seen.values()].filter((c) => c.status === 'COMPLETED');
  const last = completed.sort((a, b) => b.id - a.id)[0];
  const lastMs = last?.completedAt ? `${last.completedAt - last.triggeredAt} ms` : '-';
  const r = host.records;
  return `${((Date.now() - started) / 1000).toFixed(1)} s  in ${r.sourceRecords} records  out ${r.recordsToSinks} records  checkpoints ${completed.length} (last ${lastMs})  kills ${host.stats.kills}`;
}

export function printSummary(summary: RunSummary, out: (line: string) => void): void {
  out('');
  out(`job ${summary.job} on ${summary.world}: ${summary.status} after ${(summary.elapsedMs / 1000).toFixed(1)} s, generation ${summary.generation}${summary.detail ? ` (${summary.detail})` : ''}`);
  out(`fault injection: ${summary.kills} invocations killed, ${summary.restores} forced restores`);
  for (const g of summary.generations) out(`  ${g}`);
  if (summary.note) out(`note: ${summary.note}`);
  out('');
  out(formatCheckpointTable(summary.checkpoints, summary.startedAt));
  out('');
  for (const [name, sink] of Object.entries(summary.sinks)) out(`sink ${name}: ${sink.records} records committed at ${sink.location}`);
  if (summary.deadLetters.count > 0) out(`dead letters: ${summary.deadLetters.count} input lines the sources could not read, at ${summary.deadLetters.location}`);
}
