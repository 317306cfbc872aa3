/**
 * Asking for a failover: a terminal error anywhere (a lost message, a user function that
 * throws, a dead-lettered envelope, too many failed checkpoints) records one request on the
 * job item. The restart strategy decides now whether and when the job restarts; the
 * coordinator carries the restore out when the delay has passed. Requests from an older
 * generation, or while one is already waiting, change nothing.
 *
 * A request that is taken also says why, on the job item: `lastFailure` names the error,
 * the operator and subtask, and the input it failed on, and `restarts` counts the failovers,
 * so a job that keeps restarting on one poison record shows which record it is.
 */
import type { RestartStrategy } from '../core/config.js';
import { TidemarkError, UserFunctionError } from '../core/errors.js';
import { subtaskKey, type Generation, type SubtaskRef } from '../core/ids.js';
import type { FailureInfo, JobRecord } from '../core/manifest.js';
import { decideRestart } from '../core/restart-strategy.js';
import type { ManifestStore } from '../ports/manifest-store.js';
import { updateJob } from './job-records.js';

/** Failover times kept for the restart strategies. */
const HISTORY = 100;

/** A failure as its reporter knows it; the request adds the time. */
export type Failure = Omit<FailureInfo, 'at'>;

export async function requestFailover(
  manifest: ManifestStore,
  job: string,
  strategy: RestartStrategy,
  gen: Generation,
  failure: Failure,
  now: number,
  jitterSample: number,
): Promise<JobRecord | null> {
  const reason = `${failure.code}: ${failure.message}`;
  const lastFailure: FailureInfo = { ...failure, at: now };
  return updateJob(manifest, job, (j) => {
    if (j.gen !== gen || j.status !== 'RUNNING' || j.failover) return null;
    const decision = decideRestart(strategy, j.failures, now, jitterSample);
    if (!decision.restart) return { ...j, status: 'FAILED', detail: `${reason}; ${decision.reason}`, lastFailure };
    return {
      ...j,
      failover: { reason, at: now, restartAt: decision.at },
      failures: [...j.failures, now].slice(-HISTORY),
      restarts: (j.restarts ?? 0) + 1, // a job item written before the field existed has none
      lastFailure,
    };
  });
}

/** A failure of the job as a whole (checkpoints), not of one subtask or input. */
export const jobFailure = (code: string, message: string): Failure => ({ code, message, operator: null, subtask: null, input: null });

/**
 * The failure a terminal error in subtask `ref` stands for. A user function error names its
 * operator and input; any other error the stage, with `input` (what was being handled).
 */
export function failureOf(error: unknown, ref: SubtaskRef, input: string | null = null): Failure {
  const user = error instanceof UserFunctionError ? error : null;
  return {
    code: error instanceof TidemarkError ? error.code : 'ERROR',
    message: error instanceof Error ? error.message : String(error),
    operator: user?.operator ?? ref.stage,
    subtask: subtaskKey(ref),
    input: user?.input ?? input,
  };
}

/** What an envelope is, in a failure record: `records seq 12 from words/0`, `poll round 3`. */
export function describeEnvelope(env: { kind?: unknown; seq?: unknown; from?: { op?: unknown; subtask?: unknown }; cp?: unknown; round?: unknown }): string {
  const parts = [`${String(env.kind ?? 'unknown')} envelope`];
  if (env.cp !== undefined) parts.push(`for checkpoint ${String(env.cp)}`);
  if (env.round !== undefined) parts.push(`round ${String(env.round)}`);
  if (env.seq !== undefined) parts.push(`seq ${String(env.seq)} from ${String(env.from?.op)}/${String(env.from?.subtask)}`);
  return parts.join(' ');
}
