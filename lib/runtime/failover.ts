/**
 * Asking for a failover: a terminal error anywhere (a lost message, a user function that
 * throws, a dead-lettered envelope, too many failed checkpoints) records one request on the
 * job item. The restart strategy decides now whether and when the job restarts; the
 * coordinator carries the restore out when the delay has passed. Requests from an older
 * generation, or while one is already waiting, change nothing.
 */
import type { RestartStrategy } from '../core/config.js';
import type { Generation } from '../core/ids.js';
import type { JobRecord } from '../core/manifest.js';
import { decideRestart } from '../core/restart-strategy.js';
import type { ManifestStore } from '../ports/manifest-store.js';
import { updateJob } from './job-records.js';

/** Failover times kept for the restart strategies. */
const HISTORY = 100;

export async function requestFailover(
  manifest: ManifestStore,
  job: string,
  strategy: RestartStrategy,
  gen: Generation,
  reason: string,
  now: number,
  jitterSample: number,
): Promise<JobRecord | null> {
  return updateJob(manifest, job, (j) => {
    if (j.gen !== gen || j.status !== 'RUNNING' || j.failover) return null;
    const decision = decideRestart(strategy, j.failures, now, jitterSample);
    if (!decision.restart) return { ...j, status: 'FAILED', detail: `${reason}; ${decision.reason}` };
    return {
      ...j,
      failover: { reason, at: now, restartAt: decision.at },
      failures: [...j.failures, now].slice(-HISTORY),
    };
  });
}
