/**
 * Running a job whose name the endpoint already holds (`tidemark run` on AWS_ENDPOINT_URL):
 * it is never silently joined or replayed. Without `--fresh` the run is refused, naming the
 * choices (restore the job, or start over); with `--fresh` a job that has ended is started
 * over, and one that still runs (or is being restored) is refused until it is canceled or
 * stopped, as Flink wants a job canceled before its name is reused.
 *
 * Starting over keeps counting where the old job left off: its first generation is one past
 * the old one and its checkpoint ids continue. So whatever of the old job is still on the
 * wire is fenced by generation, and no message id repeats one the FIFO queues deduplicate
 * (their five-minute window would swallow the new job's messages).
 */
import { isFinalStatus } from './job-status.js';
import { generation } from './ids.js';
import { initialJobRecord, type JobRecord } from './manifest.js';

export type ResubmitDecision =
  /** No job of that name: run it as new. */
  | { readonly kind: 'new' }
  | { readonly kind: 'refuse'; readonly reason: string }
  /** Delete what the old job left, then replace its job item with `next` (conditional). */
  | { readonly kind: 'start-over'; readonly next: JobRecord };

export interface ResubmitContext {
  /** Where the job is, as the operations commands say it (`AWS_ENDPOINT_URL=…`). */
  readonly where: string;
  /** The job file as the user named it, for the commands the refusal suggests. */
  readonly jobFile: string;
  readonly fresh: boolean;
  readonly now: number;
}

export function resubmitDecision(existing: JobRecord | null, c: ResubmitContext): ResubmitDecision {
  if (!existing) return { kind: 'new' };
  const { job, status, gen } = existing;
  const ended = isFinalStatus(status);
  if (!c.fresh) {
    const over = ended ? 'start over with --fresh' : `cancel it (\`tidemark cancel ${c.jobFile}\`) and start over with --fresh`;
    return { kind: 'refuse', reason: `job ${job} already exists on ${c.where} (status ${status}, generation ${gen}): restore it with \`tidemark restore ${c.jobFile} --from latest\`, or ${over}` };
  }
  if (!ended) {
    return { kind: 'refuse', reason: `job ${job} is ${status} on ${c.where} (generation ${gen}): cancel it (\`tidemark cancel ${c.jobFile}\`) or stop it (\`tidemark stop ${c.jobFile}\`) before starting over with --fresh` };
  }
  return { kind: 'start-over', next: freshJobRecord(existing, c.now) };
}

/** A job submitted anew over `old`: generation 1's record, one generation and checkpoint id past it. */
export function freshJobRecord(old: JobRecord, now: number): JobRecord {
  const gen = generation(old.gen + 1);
  return {
    ...initialJobRecord(old.job, gen),
    nextCheckpointId: old.nextCheckpointId,
    timer: { token: old.timer.token + 1, firedAt: null },
    version: old.version,
    restore: {
      gen,
      request: { kind: 'latest' },
      previous: { gen: generation(0), base: null },
      from: { kind: 'empty' },
      parallelism: {},
      startedAt: now,
      reason: `job submitted again (--fresh), over generation ${old.gen}`,
    },
  };
}
