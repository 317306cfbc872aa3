/**
 * Canceling a job (Flink's `flink cancel`, JobStatus.CANCELED): it ends at once, without a
 * savepoint. The decisions, pure; the runtime (runtime/job-cancel.ts) carries them out.
 *
 * - The cancel is one conditional write of the job item: a RUNNING (or RESTORING) job
 *   becomes CANCELED, and whatever was under way in it is dropped with it (a savepoint or
 *   stop requested, a failover waiting, a restore half-way). Anything else is refused, with
 *   the status named, and nothing is written.
 * - Afterwards no checkpoint of it may complete: its pending ones are aborted with Flink's
 *   CHECKPOINT_COORDINATOR_SUSPEND, ids allocated without an item yet are tombstoned, and
 *   the coordinator triggers nothing for a job that is not RUNNING. Completed checkpoints
 *   stay: `restore --from latest` starts a new generation from the newest of them.
 * - Operators drop what is still in flight for the canceled generations (sources stop
 *   reading, nothing more is staged or acknowledged), except `commit`: a sink commits only
 *   what a completed checkpoint holds, so its output becomes visible as it would have.
 */
import type { CheckpointId } from './ids.js';
import type { CheckpointFailureReason, CheckpointRecord, JobRecord, JobStatus } from './manifest.js';

/** Why pending checkpoints of a canceled job fail (Flink's reason for a job that ends). */
export const CANCEL_ABORT_REASON: CheckpointFailureReason = 'CHECKPOINT_COORDINATOR_SUSPEND';

/** The statuses a cancel takes: a job that runs, or is being restored. */
const CANCELABLE: readonly JobStatus[] = ['RUNNING', 'RESTORING'];

/** Why `job` cannot be canceled now (one line, naming its status), or null. */
export function cancelRefusal(job: Pick<JobRecord, 'job' | 'status'>): string | null {
  if (CANCELABLE.includes(job.status)) return null;
  return `job ${job.job} is ${job.status}, not RUNNING: there is nothing to cancel`;
}

/** The job item after the cancel, or null when it is refused (see `cancelRefusal`). */
export function canceledJob(job: JobRecord, reason: string): JobRecord | null {
  if (cancelRefusal(job) !== null) return null;
  return {
    ...job,
    status: 'CANCELED',
    savepointRequest: null,
    stopping: null,
    failover: null,
    restore: null,
    detail: reason,
  };
}

/**
 * What must not complete any more once the job is canceled: its pending checkpoints, and the
 * ids below `nextCheckpointId` that have no item (allocated by a trigger whose item is not
 * written yet: the tombstone makes that write fail).
 */
export function checkpointsToFence(job: Pick<JobRecord, 'nextCheckpointId'>, items: readonly CheckpointRecord[]): { pending: CheckpointId[]; tombstones: CheckpointId[] } {
  const pending = items.filter((c) => c.status === 'PENDING').map((c) => c.id);
  const known = new Set<number>(items.map((c) => c.id));
  const highest = items.reduce((m, c) => Math.max(m, c.id), 0);
  const tombstones: CheckpointId[] = [];
  for (let id = highest + 1; id < job.nextCheckpointId; id++) if (!known.has(id)) tombstones.push(id as CheckpointId);
  return { pending: pending.sort((a, b) => a - b), tombstones };
}

/**
 * Whether an operator drops an envelope of generation `gen` and `kind` unprocessed: the job
 * item (as last read) says the job was canceled at that generation or a later one. A
 * generation started since (a restore after the cancel) is newer and goes on; so do commits.
 */
export function dropsAfterCancel(job: Pick<JobRecord, 'status' | 'gen'> | null, gen: number, kind: string): boolean {
  if (!job || job.status !== 'CANCELED' || kind === 'commit') return false;
  return gen <= job.gen;
}
