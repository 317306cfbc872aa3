/**
 * The read-only operations commands: `tidemark list`, `status <job>`, `checkpoints <job>
 * [--id N]` and `output <job.ts> <sink>`, against the target local/target.ts resolves. Each prints a short report, or
 * with `--json` one object on stdout (Flink's REST field meanings for checkpoints: see
 * core/checkpoint-stats).
 */
import { CHECKPOINT_HISTORY } from '../lib/core/coordinator.js';
import { MAX_WATERMARK } from '../lib/core/watermarks.js';
import type { Ports } from '../lib/ports/index.js';
import { checkpointDetail, checkpointStatistics, stageFigures, type CheckpointDetail, type CheckpointStatistics } from '../lib/core/checkpoint-stats.js';
import type { CheckpointSettings } from '../lib/core/config.js';
import type { JobGraph } from '../lib/core/graph.js';
import { compileTopology } from '../lib/core/topology.js';
import { checkpointId } from '../lib/core/ids.js';
import type { CheckpointRecord, JobRecord } from '../lib/core/manifest.js';
import { JobNotFoundError } from './ingest-command.js';
import { checkpointRow, formatCheckpointTable, formatBytes } from './checkpoint-table.js';
import { UsageError } from './cli-errors.js';
import { loadJob } from './job-file.js';
import { readSinkOutput } from '../lib/runtime/sink-reader.js';
import { failureLine } from './run-summary.js';
import type { Target } from './target.js';

export interface OpsOutput {
  readonly json: boolean;
  readonly out: (line: string) => void;
}

/** A job named by its file (which also gives its checkpoint settings) or by `--job NAME`. */
export async function jobReference(jobFile: string | undefined, name: string | undefined): Promise<{ name: string; settings: CheckpointSettings | null; graph?: JobGraph }> {
  if (jobFile && name) throw new UsageError('name the job by its file or by --job NAME, not both');
  if (name) return { name, settings: null };
  if (!jobFile) throw new UsageError('missing <job-file> (or --job NAME)', true);
  const { graph } = await loadJob(jobFile);
  return { name: graph.name, settings: graph.checkpoints, graph };
}

export interface JobListRow {
  readonly job: string;
  readonly status: string;
  readonly generation: number;
  readonly lastCheckpoint: number | null;
  readonly restarts: number;
}

/** What `tidemark list --json` prints (and the web UI's `/jobs` reads). */
export async function listReport(target: Target): Promise<{ target: string; jobs: JobListRow[] }> {
  const rows: JobListRow[] = [];
  for (const name of await target.jobs()) {
    const ports = target.portsFor(name);
    const job = await ports.manifest.getJob(name);
    if (!job) continue;
    const latest = (await ports.manifest.listCheckpoints(name, { limit: CHECKPOINT_HISTORY })).find((c) => c.status === 'COMPLETED');
    rows.push({ job: name, status: job.status, generation: job.gen, lastCheckpoint: latest?.id ?? null, restarts: job.restarts ?? 0 });
  }
  return { target: target.where, jobs: rows };
}

export async function listCommand(target: Target, o: OpsOutput): Promise<void> {
  const report = await listReport(target);
  if (o.json) return o.out(JSON.stringify(report));
  const rows = report.jobs;
  o.out(`jobs on ${target.where}:`);
  if (rows.length === 0) o.out('  (none)');
  for (const r of rows) o.out(`  ${r.job}  ${r.status}  generation ${r.generation}  last checkpoint ${r.lastCheckpoint ?? '-'}  restarts ${r.restarts}`);
}

/** A job's item and its checkpoint history, what the reports below are made of. */
export interface JobFacts {
  readonly job: JobRecord;
  readonly checkpoints: CheckpointRecord[];
}

/** The job's facts, read once; a job the target does not hold is a JobNotFoundError. */
export async function jobOf(target: Target, name: string): Promise<JobFacts> {
  // Asked first: the table of a job that is not there does not exist either.
  const known = await target.jobs();
  if (!known.includes(name)) throw new JobNotFoundError(`no job ${name} on ${target.where} (jobs there: ${known.join(', ') || 'none'})`);
  const ports = target.portsFor(name);
  const job = await ports.manifest.getJob(name);
  if (!job) throw new JobNotFoundError(`no job ${name} on ${target.where}`);
  return { job, checkpoints: await ports.manifest.listCheckpoints(name, { limit: CHECKPOINT_HISTORY }) };
}

/**
 * Where the current generation came from: `submitted`, `checkpoint N`, `savepoint S`. The base
 * is read by id when the history window no longer lists it: a generation that ran long has
 * taken ten checkpoints since the savepoint it started from.
 */
async function origin(job: JobRecord, checkpoints: readonly CheckpointRecord[], ports: Pick<Ports, 'manifest'>): Promise<string> {
  const base = job.lineage.base;
  if (base === null) return job.gen === 1 ? 'submitted' : 'empty (no checkpoint to restore)';
  const record = checkpoints.find((c) => c.id === base) ?? (await ports.manifest.getCheckpoint(job.job, base));
  const savepoint = record?.savepoint;
  return savepoint ? `savepoint ${savepoint} (checkpoint ${base})` : `checkpoint ${base}`;
}

/**
 * Per stage, when the job file is at hand: parallelism now, its queue's depth (backpressure),
 * and records in and out and the watermark as of the generation's latest completed checkpoint
 * (the runtime records them at snapshot time, off the hot path).
 */
async function stageStatus(target: Target, graph: JobGraph, job: JobRecord, checkpoints: readonly CheckpointRecord[]) {
  const ports = target.portsFor(graph.name);
  const stages = compileTopology(graph, job.parallelism).stages;
  const latest = checkpoints.find((c) => c.status === 'COMPLETED' && c.gen === job.gen);
  const acks = latest ? await ports.manifest.listAcks(graph.name, latest.id) : {};
  return Promise.all(
    stages.map(async (s) => {
      const depth = await ports.queue.depth(s.queue);
      const figures = latest ? stageFigures(latest, acks, s.id) : null;
      return {
        stage: s.id,
        operators: s.operators.map((op) => op.name as string),
        parallelism: s.parallelism,
        queue: s.queue,
        visible: depth.visible,
        inFlight: depth.inFlight,
        asOfCheckpoint: figures?.checkpoint ?? null,
        recordsIn: figures?.recordsIn ?? null,
        recordsOut: figures?.recordsOut ?? null,
        watermark: figures?.watermark ?? null,
      };
    }),
  );
}

export type StatusReport = Awaited<ReturnType<typeof statusReportOf>>;

/** What `tidemark status --json` prints. */
export async function statusReport(target: Target, name: string, graph?: JobGraph): Promise<StatusReport> {
  return statusReportOf(target, name, await jobOf(target, name), graph);
}

/** The status report from facts already read (the web UI reads them once per request). */
export async function statusReportOf(target: Target, name: string, { job, checkpoints }: JobFacts, graph?: JobGraph) {
  const stages = graph ? await stageStatus(target, graph, job, checkpoints) : null;
  const now = Date.now();
  const status = {
    job: name,
    target: target.where,
    status: job.status,
    detail: job.detail,
    generation: job.gen,
    origin: await origin(job, checkpoints, target.portsFor(name)),
    /** Since the current generation started RUNNING, ms; null when it is not running. */
    uptime: job.status === 'RUNNING' && job.runningSince !== undefined ? now - job.runningSince : null,
    restarts: job.restarts ?? 0,
    lastFailure: job.lastFailure ?? null,
    lastCheckpoint: checkpoints.find((c) => c.status === 'COMPLETED')?.id ?? null,
    deadLetters: job.deadLetters,
    /** Null when the job is named without its file (the stages come from it). */
    stages,
  };
  return status;
}

export async function statusCommand(target: Target, name: string, o: OpsOutput, graph?: JobGraph): Promise<void> {
  const status = await statusReport(target, name, graph);
  if (o.json) return o.out(JSON.stringify(status));
  o.out(`job ${name} on ${target.where}: ${status.status}${status.detail ? ` (${status.detail})` : ''}`);
  const uptime = status.uptime === null ? '' : `, up ${(status.uptime / 1000).toFixed(0)} s`;
  o.out(`generation ${status.generation}, from ${status.origin}${uptime}; restarts ${status.restarts}; last completed checkpoint ${status.lastCheckpoint ?? '-'}`);
  if (status.lastFailure) o.out(`last failure: ${failureLine(status.lastFailure)}`);
  for (const st of status.stages ?? []) o.out(`  stage ${st.stage} (${st.operators.join(' → ')}): parallelism ${st.parallelism}, queue ${st.visible} waiting, ${st.inFlight} in flight${figuresLine(st)}`);
}

function figuresLine(st: { asOfCheckpoint: number | null; recordsIn: number | null; recordsOut: number | null; watermark: number | null }): string {
  if (st.asOfCheckpoint === null) return '';
  const wm = st.watermark === null ? 'none' : st.watermark >= MAX_WATERMARK ? 'end of input' : eventTime(st.watermark);
  return `; at checkpoint ${st.asOfCheckpoint}: ${st.recordsIn} records in, ${st.recordsOut ?? '?'} out, watermark ${wm}`;
}

/** An event time as a date when it is one, else the number (a job's own clock). */
const eventTime = (ms: number) => (Number.isNaN(new Date(ms).getTime()) ? String(ms) : new Date(ms).toISOString());

/** What `tidemark checkpoints --id N --json` prints (and `/jobs/:id/checkpoints/details/:cid`). */
export async function checkpointDetailReport(target: Target, name: string, id: number): Promise<CheckpointDetail> {
  const { checkpoints } = await jobOf(target, name);
  const record = checkpoints.find((c) => c.id === id) ?? (await target.portsFor(name).manifest.getCheckpoint(name, checkpointId(id)));
  if (!record) throw new JobNotFoundError(`job ${name} has no checkpoint ${id} in its history (the manifest keeps the last ${CHECKPOINT_HISTORY})`);
  return checkpointDetail(record, await target.portsFor(name).manifest.listAcks(name, record.id));
}

/** What `tidemark checkpoints --json` prints (and `/jobs/:id/checkpoints`), with the records it came from. */
export async function checkpointsReport(target: Target, name: string, settings: CheckpointSettings | null): Promise<{ stats: CheckpointStatistics; checkpoints: CheckpointRecord[] }> {
  const { job, checkpoints } = await jobOf(target, name);
  return { stats: checkpointStatistics(job, checkpoints, settings), checkpoints };
}

export async function checkpointsCommand(target: Target, name: string, settings: CheckpointSettings | null, id: number | undefined, o: OpsOutput): Promise<void> {
  if (id !== undefined) {
    const detail = await checkpointDetailReport(target, name, id);
    if (o.json) return o.out(JSON.stringify(detail));
    o.out(`checkpoint ${id} of ${name}: ${detail.status}${detail.failureReason ? ` (${detail.failureReason})` : ''}, ${detail.numAcknowledgedSubtasks}/${detail.numSubtasks} subtasks, ${formatBytes(detail.checkpointedSize)}`);
    o.out('SUBTASK  ACKED  END TO END  START DELAY  ALIGNMENT  SYNC  ASYNC  SIZE  FULL SIZE  CHAINED');
    for (const s of detail.subtasks) {
      const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);
      const size = (v: number | null) => (v === null ? '-' : formatBytes(v));
      o.out(`${s.subtask}  ${s.acknowledged ? 'yes' : 'no'}  ${ms(s.endToEndDuration)}  ${ms(s.startDelay)}  ${ms(s.alignmentDuration)}  ${ms(s.syncDuration)}  ${ms(s.asyncDuration)}  ${size(s.checkpointedSize)}  ${size(s.stateSize)}  ${s.chained ?? '-'}`);
    }
    return;
  }
  const { stats, checkpoints } = await checkpointsReport(target, name, settings);
  if (o.json) return o.out(JSON.stringify(stats));
  printStatistics(name, stats, checkpoints, o.out);
}

function printStatistics(name: string, stats: CheckpointStatistics, checkpoints: readonly CheckpointRecord[], out: (line: string) => void): void {
  const c = stats.counts;
  out(`checkpoints of ${name}: triggered ${c.triggered}, in progress ${c.inProgress}, completed ${c.completed}, failed ${c.failed}, restored ${c.restored} (all but triggered: over the checkpoints the manifest holds, below)`);
  const d = stats.summary.endToEndDuration;
  const s = stats.summary.checkpointedSize;
  if (d && s) out(`summary of completed: duration min ${d.min} / avg ${Math.round(d.avg)} / max ${d.max} ms; size min ${formatBytes(s.min)} / avg ${formatBytes(Math.round(s.avg))} / max ${formatBytes(s.max)}`);
  if (stats.latestRestore) out(`latest restore: generation ${stats.latestRestore.generation} from ${stats.latestRestore.savepoint ? `savepoint ${stats.latestRestore.savepoint}` : `checkpoint ${stats.latestRestore.checkpoint}`}`);
  if (checkpoints.length > 0) {
    out('');
    out(formatCheckpointTable(checkpoints.map(checkpointRow), Math.min(...checkpoints.map((x) => x.triggeredAt))));
  }
}

/** `tidemark output <job.ts> <sink> [--limit N]`: what a sink committed, whatever its kind. */
export async function outputCommand(target: Target, jobFile: string, sink: string, limit: number | undefined, o: OpsOutput): Promise<void> {
  const { graph } = await loadJob(jobFile);
  const sinks = graph.operators.filter((op) => op.spec.kind === 'sink').map((op) => op.name as string);
  if (!sinks.includes(sink)) throw new UsageError(`job ${graph.name} has no sink ${JSON.stringify(sink)} (its sinks: ${sinks.join(', ')})`);
  await target.prepare(graph.name);
  await jobOf(target, graph.name);
  const records = (await readSinkOutput(target.portsFor(graph.name), graph, sink)) ?? [];
  const shown = limit === undefined ? records : records.slice(0, limit);
  if (o.json) return o.out(JSON.stringify({ job: graph.name, sink, total: records.length, records: shown }));
  for (const r of shown) o.out(JSON.stringify(r));
  if (shown.length < records.length) process.stderr.write(`(${shown.length} of ${records.length} records; --limit shows more)\n`);
}
