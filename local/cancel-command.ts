/**
 * `tidemark cancel <job>`: ends a running job at once, without a savepoint (Flink's `flink
 * cancel`): CANCELED in one conditional write of the job item, its checkpoints that had not
 * completed aborted, the ones that did kept for `tidemark restore <job> --from latest`
 * (runtime/job-cancel.ts). A job that is not running is refused with its status, and a
 * refused cancel writes nothing: of two concurrent commands on one job, one loses.
 */
import { CHECKPOINT_HISTORY } from '../lib/core/coordinator.js';
import { JobStateError } from '../lib/core/errors.js';
import { cancelJob } from '../lib/runtime/job-cancel.js';
import { JobNotFoundError } from './ingest-command.js';
import type { OpsOutput } from './ops-commands.js';
import type { Target } from './target.js';

export interface CancelResult {
  readonly job: string;
  readonly status: 'CANCELED';
  readonly generation: number;
  /** Pending checkpoints the cancel aborted. */
  readonly aborted: readonly number[];
  /** The newest completed checkpoint, what `restore --from latest` starts from; null if none. */
  readonly latestCheckpoint: number | null;
}

/** Cancels the job: what `tidemark cancel` does, and the web UI's Cancel button. */
export async function cancelRunningJob(target: Target, job: string, by = 'tidemark cancel'): Promise<CancelResult> {
  // Asked first: the table of a job that is not there does not exist either.
  if (!(await target.jobs()).includes(job)) throw new JobNotFoundError(`no job ${job} on ${target.where}`);
  const { manifest } = target.portsFor(job);
  const outcome = await cancelJob(manifest, job, Date.now(), `canceled by ${by}`);
  if (outcome.kind === 'missing') throw new JobNotFoundError(`no job ${job} on ${target.where}`);
  if (outcome.kind === 'refused') throw new JobStateError(outcome.reason);
  const latest = (await manifest.listCheckpoints(job, { limit: CHECKPOINT_HISTORY })).find((c) => c.status === 'COMPLETED' && c.gen <= outcome.job.gen);
  return { job, status: 'CANCELED', generation: outcome.job.gen, aborted: outcome.aborted, latestCheckpoint: latest?.id ?? null };
}

export async function cancelCommand(target: Target, job: string, o: OpsOutput): Promise<void> {
  const result = await cancelRunningJob(target, job);
  if (o.json) return o.out(JSON.stringify(result));
  const aborted = result.aborted.length === 0 ? 'no checkpoint was pending' : `pending checkpoint${result.aborted.length > 1 ? 's' : ''} ${result.aborted.join(', ')} aborted`;
  const kept = result.latestCheckpoint !== null ? `latest completed checkpoint ${result.latestCheckpoint} kept: tidemark restore <job-file> --from latest resumes from it` : 'no checkpoint had completed';
  o.out(`job ${job} CANCELED (generation ${result.generation}); ${aborted}; ${kept}`);
}
