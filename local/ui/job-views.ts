/**
 * What the REST API answers about one job, read from the target (the I/O of the web UI): the
 * overview row, the job with its graph, and its exceptions. The figures come from the same
 * reports the CLI prints (local/ops-commands.ts); the graph's are shaped by job-graph-view.ts.
 */
import { CHECKPOINT_HISTORY } from '../../lib/core/coordinator.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { hasCompleted } from '../../lib/core/manifest.js';
import { compileTopology } from '../../lib/core/topology.js';
import { JobNotFoundError } from '../ingest-command.js';
import { jobOf, statusReportOf, type JobFacts, type StatusReport } from '../ops-commands.js';
import type { Target } from '../target.js';
import { jobGraphView, type AckedCheckpoint, type JobGraphView } from './job-graph-view.js';

/** A row of `/jobs/overview` (Flink's field names where they apply). */
export interface JobOverview {
  readonly jid: string;
  readonly name: string;
  readonly state: string;
  readonly generation: number;
  /** Since the current generation started running, ms; null when it is not running. */
  readonly uptime: number | null;
  readonly 'last-checkpoint': number | null;
  readonly restarts: number;
  /** Why the job could not be read (state UNKNOWN). */
  readonly error?: string;
}

/**
 * Every job on the target. A table whose job item is not there (yet, or any more: a run
 * provisioning it, a `--fresh` deleting it) is no job, and is left out, as `tidemark list` does.
 */
export async function jobsOverview(target: Target): Promise<JobOverview[]> {
  const rows = await Promise.all((await target.jobs()).map((name) => jobOverview(target, name)));
  return rows.filter((r): r is JobOverview => r !== null);
}

async function jobOverview(target: Target, name: string): Promise<JobOverview | null> {
  await target.prepare(name);
  let s: StatusReport;
  try {
    // The name came from the target's own listing: the item and history are read directly.
    const { manifest } = target.portsFor(name);
    const job = await manifest.getJob(name);
    if (!job) return null;
    s = await statusReportOf(target, name, { job, checkpoints: await manifest.listCheckpoints(name, { limit: CHECKPOINT_HISTORY }) });
  } catch (e) {
    // One job that cannot be read (its table going away) does not hide the others.
    return { jid: name, name, state: 'UNKNOWN', generation: 0, uptime: null, 'last-checkpoint': null, restarts: 0, error: e instanceof Error ? e.message : String(e) };
  }
  return { jid: name, name, state: s.status, generation: s.generation, uptime: s.uptime, 'last-checkpoint': s.lastCheckpoint, restarts: s.restarts };
}

/** `/jobs/:id`: the status report and, when the job file is known, its graph. */
export type JobDetail = Omit<StatusReport, 'stages'> & {
  readonly jid: string;
  readonly name: string;
  readonly state: string;
  readonly now: number;
  /** The job file the graph comes from; null when the UI does not know it (no graph then). */
  readonly jobFile: string | null;
} & Partial<JobGraphView>;

export async function jobDetail(target: Target, name: string, graph: JobGraph | null, jobFile: string | null): Promise<JobDetail> {
  const facts = await jobOf(target, name);
  const { stages: _stages, ...status } = await statusReportOf(target, name, facts);
  const base = { ...status, jid: name, name, state: status.status, now: Date.now(), jobFile };
  if (!graph) return base;
  return { ...base, ...(await observeGraph(target, graph, facts)) };
}

async function observeGraph(target: Target, graph: JobGraph, { job, checkpoints }: JobFacts): Promise<JobGraphView> {
  const ports = target.portsFor(graph.name);
  const stages = compileTopology(graph, job.parallelism).stages;
  const depths = new Map(await Promise.all(stages.map(async (s) => [s.queue, await ports.queue.depth(s.queue)] as const)));
  const completed = checkpoints.filter((c) => hasCompleted(c) && c.gen === job.gen);
  const acked = async (i: number): Promise<AckedCheckpoint | null> => {
    const record = completed[i];
    return record ? { record, acks: await ports.manifest.listAcks(graph.name, record.id) } : null;
  };
  return jobGraphView({ stages, depths, latest: await acked(0), previous: await acked(1) });
}

/** `/jobs/:id/exceptions`, in Flink's shape: the root exception and the history the job item keeps. */
export async function jobExceptions(target: Target, name: string) {
  const facts = await jobOf(target, name);
  const s = await statusReportOf(target, name, facts);
  const f = s.lastFailure;
  const entry = f ? { exceptionName: f.code, stacktrace: f.message + (f.input ? `\ninput: ${f.input}` : ''), timestamp: f.at, taskName: f.operator, location: f.subtask } : null;
  return {
    'root-exception': f ? `${f.code}: ${f.message}` : null,
    timestamp: f?.at ?? null,
    /** The job item keeps the latest failure in full and the times of the failovers before it. */
    exceptionHistory: { entries: entry ? [entry] : [], truncated: s.restarts > 1 },
    restarts: s.restarts,
    /** When each failover the restart strategy still counts happened, oldest first. */
    failureTimes: facts.job.failures,
    /** Where the current generation came from: a restore names its checkpoint or savepoint. */
    generation: s.generation,
    origin: s.origin,
    detail: s.detail,
  };
}
