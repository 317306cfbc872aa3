/**
 * `tidemark restore <job.ts> --from latest|<checkpoint id>|<savepoint name> [--parallelism N]
 * [--allow-non-restored-state] [--wait]`: starts a new generation of the job from there (Flink's `flink run -s`), through
 * the same recovery manager a failover uses, against the target of the other operations
 * commands. With `--wait` it follows the job as `run` does until it ends, and checks what the
 * sinks committed over the whole run, across every restore, against a sequential evaluation.
 *
 * What must hold: a restore from something that is not there is refused before any state is
 * touched, and `--parallelism` is validated before the job item is written. So is state the
 * job file's code cannot take (state is matched to operators by name, Flink's `uid`): an
 * operator it lacks (unless `--allow-non-restored-state`), a state of another kind, another
 * key function or maxParallelism. Operators that start empty are said first, as Flink logs them.
 */
import { relative, resolve } from 'node:path';
import { JobStateError } from '../lib/core/errors.js';
import type { JobStatus, RestoreRequest } from '../lib/core/manifest.js';
import { compileTopology, jobResources } from '../lib/core/topology.js';
import { RecoveryManager } from '../lib/runtime/recovery-manager.js';
import { devJobFile, handCodeToDev, hostName } from './dev-code.js';
import { JobNotFoundError } from './ingest-command.js';
import { loadJob } from './job-file.js';
import type { OpsOutput } from './ops-commands.js';
import { printSummary } from './run-summary.js';
import type { Target } from './target.js';
import { jobOutcome, watchedSummary, watchJob } from './watch-job.js';

export interface RestoreArgs {
  readonly jobFile: string;
  readonly from: string;
  readonly parallelism?: number;
  /** Drop the state of operators the job file no longer has (Flink's `--allowNonRestoredState`). */
  readonly allowNonRestoredState?: boolean;
  readonly wait: boolean;
}

export function restoreRequest(from: string): RestoreRequest {
  if (from === 'latest') return { kind: 'latest' };
  if (/^\d+$/.test(from)) return { kind: 'checkpoint', checkpoint: Number(from) };
  return { kind: 'savepoint', name: from };
}

export async function restoreCommand(target: Target, args: RestoreArgs, o: OpsOutput): Promise<number> {
  const { graph, module } = await loadJob(args.jobFile);
  const name = graph.name;
  await target.prepare(name);
  const ports = target.portsFor(name);
  const job = await ports.manifest.getJob(name);
  if (!job) throw new JobNotFoundError(`no job ${name} on ${target.where}`);
  const request = restoreRequest(args.from);
  // Every item: a savepoint may be older than the history window.
  await checkRestorable(ports.manifest.listCheckpoints(name), request, name);
  // Every stage but the sources takes N (the graph does not keep which operators chose their
  // own). A source's offsets are per subtask and are not redistributed: it keeps its parallelism.
  const stages = compileTopology(graph).stages.filter((s) => s.operators[0]!.spec.kind !== 'source');
  const parallelism = args.parallelism === undefined ? undefined : Object.fromEntries(stages.map((s) => [s.id, args.parallelism!]));
  const recovery = new RecoveryManager(graph, ports);
  const allowNonRestoredState = args.allowNonRestoredState ?? false;
  // What can be checked without running the new code, before anything is written.
  const notes = await recovery.checkCompatibility(request, { allowNonRestoredState });
  if (!o.json) for (const note of notes) o.out(note);
  await handOverCode(target, name, job.status, args.jobFile, o);
  const restored = await recovery.restore({ request, reason: `tidemark restore --from ${args.from}`, allowNonRestoredState, ...(parallelism ? { parallelism } : {}) });
  if (!restored || restored.status !== 'RUNNING') throw new JobStateError(`job ${name} did not restore (${restored?.status ?? 'gone'}${restored?.detail ? `: ${restored.detail}` : ''})`);
  const origin = restored.lineage.base === null ? 'empty' : `checkpoint ${restored.lineage.base}`;
  if (!args.wait) {
    if (o.json) o.out(JSON.stringify({ job: name, generation: restored.gen, from: origin, status: restored.status, ...(notes.length > 0 ? { notes } : {}) }));
    else o.out(`job ${name}: generation ${restored.gen} RUNNING, restored from ${origin}`);
    return 0;
  }
  const watched = await watchJob(ports, graph, { progress: null, patience: {}, restore: (c) => recovery.restore(c) });
  const outcome = await jobOutcome(ports, graph, module, watched.job?.status, { verify: true, json: o.json, patience: {}, location: (p) => target.locate(name, p), table: jobResources(name).table });
  const summary = watchedSummary(watched, outcome, {
    job: name,
    world: target.where,
    kills: 0,
    sourceRecords: 0,
    requests: null,
    wireFaults: null,
    // The table's clock starts at the earliest checkpoint shown (some predate the watch).
    startedAt: Math.min(watched.startedAt, ...[...watched.checkpoints.values()].map((c) => c.triggeredAt)),
    generations: [`generation ${restored.gen}: restored from ${origin}`, ...watched.generations.filter((g) => !g.startsWith(`generation ${restored.gen}:`))],
  });
  if (o.json) o.out(JSON.stringify(summary));
  else {
    printSummary(summary, o.out);
    if (summary.exactlyOnce) o.out(summary.exactlyOnce.ok ? `exactly-once: OK (${summary.exactlyOnce.summary})` : `exactly-once: FAILED, ${summary.exactlyOnce.differences.length} differences`);
  }
  return summary.status === 'FAILED' || (summary.exactlyOnce && !summary.exactlyOnce.ok) ? 1 : 0;
}

/**
 * A `tidemark dev` runs the code it loaded: restoring with another job file (an upgrade)
 * first has it run that file's code (local/dev-code.ts). Only once the job has ended: the
 * generation still running would otherwise meet the new code (Flink too stops, then submits).
 */
async function handOverCode(target: Target, job: string, status: JobStatus, jobFile: string, o: OpsOutput): Promise<void> {
  if (!target.dev) return;
  const running = devJobFile(target.dev, job);
  if (running === null || running === resolve(jobFile)) return;
  if (status === 'RUNNING' || status === 'RESTORING') {
    throw new JobStateError(`job ${job} is ${status} in ${hostName(target.dev)} with the code of ${relative(process.cwd(), running)}: stop it first (tidemark stop --job ${job} --savepoint NAME), then restore ${jobFile} from that savepoint`);
  }
  await handCodeToDev(job, jobFile);
  if (!o.json) o.out(`${hostName(target.dev)} now runs the code of ${jobFile}`);
}

/** A checkpoint or savepoint the manifest does not hold is refused before anything is written. */
async function checkRestorable(listing: Promise<readonly { id: number; status: string; savepoint: string | null }[]>, request: RestoreRequest, job: string): Promise<void> {
  const checkpoints = await listing;
  if (request.kind === 'latest') return;
  const found = request.kind === 'checkpoint' ? checkpoints.find((c) => c.id === request.checkpoint) : checkpoints.find((c) => c.savepoint === request.name);
  const what = request.kind === 'checkpoint' ? `checkpoint ${request.checkpoint}` : `savepoint ${request.name}`;
  if (!found) throw new JobStateError(`job ${job} has no ${what} to restore from (see tidemark checkpoints)`);
  if (found.status === 'DISCARDED') throw new JobStateError(`job ${job}'s ${what} was discarded by retention (its snapshots are deleted): restore from a retained checkpoint (tidemark checkpoints) or a savepoint`);
  if (found.status !== 'COMPLETED') throw new JobStateError(`job ${job}'s ${what} is ${found.status}, not COMPLETED: it cannot be restored from`);
}
