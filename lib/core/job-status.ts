/**
 * The job's status machine, as one table (Arroyo's job state machine, Flink's JobStatus):
 * which status the job item may move to from each one. Every change of the job item goes
 * through `updateJob` (runtime/job-records.ts), which checks it here.
 *
 *   RESTORING  a restore runs (a job item is created in it: the submit is the first restore);
 *              it ends RUNNING, or FAILED when it cannot proceed (RestoreError)
 *   RUNNING    ends FINISHED (bounded input done), STOPPED (stop-with-savepoint), FAILED (the
 *              restart strategy gives up), CANCELED (`tidemark cancel`, no savepoint), or goes
 *              RESTORING (a failover, a user's restore); a restore may be canceled too
 *   FAILED, FINISHED, STOPPED, CANCELED
 *              final for their generation: only a restore (a new generation, e.g. from a
 *              savepoint) leaves them
 *
 * Every status may also stay what it is: most writes change other fields (the timer token,
 * checkpoint ids, dead-letter counts, the restore's progress).
 */
import { InvariantError } from './errors.js';
import type { JobStatus } from './manifest.js';

/** The status a job item is created with. */
export const INITIAL_JOB_STATUS: JobStatus = 'RESTORING';

export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  RESTORING: ['RESTORING', 'RUNNING', 'FAILED', 'CANCELED'],
  RUNNING: ['RUNNING', 'RESTORING', 'FAILED', 'FINISHED', 'STOPPED', 'CANCELED'],
  FAILED: ['FAILED', 'RESTORING'],
  FINISHED: ['FINISHED', 'RESTORING'],
  STOPPED: ['STOPPED', 'RESTORING'],
  CANCELED: ['CANCELED', 'RESTORING'],
};

/** A status the table does not know (a corrupt item) may go nowhere. */
const targets = (from: JobStatus): readonly JobStatus[] => JOB_TRANSITIONS[from] ?? [];

export const isLegalTransition = (from: JobStatus, to: JobStatus): boolean => targets(from).includes(to);

/**
 * FAILED, FINISHED, STOPPED, CANCELED: statuses nothing but a restore leaves, read off the table. A
 * run that watches a job ends when it reaches one.
 */
export const isFinalStatus = (status: JobStatus): boolean => targets(status).every((s) => s === status || s === 'RESTORING');

/** Throws an InvariantError naming both statuses (and the job) when the table forbids the move. */
export function checkTransition(from: JobStatus, to: JobStatus, job?: string): void {
  if (isLegalTransition(from, to)) return;
  const allowed = targets(from).filter((s) => s !== from);
  const only = allowed.length > 0 ? `only to ${allowed.join(', ')}` : 'nowhere';
  throw new InvariantError(`${job ? `job ${job}: ` : ''}illegal status change ${from} → ${to} (${from} goes ${only})`);
}
