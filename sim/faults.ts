/**
 * Faults the harness injects from outside the schedule during the fault phase, one per
 * call: a clock jump past the visibility timeout (zombies, expired checkpoints), a
 * duplicate of a recent send, a malformed message, or — at most three times a run — a
 * restore: failover to latest, possibly rescaling, or stop-with-savepoint (restored later
 * from the savepoint by `resumeFromSavepoint`). Crashes and stalls at port calls are the
 * scheduler's; lost responses the instrumented ports'.
 */
import type { JobRecord } from '../lib/core/manifest.js';
import { pick, randomInt } from '../lib/core/rng.js';
import { envelopes } from '../lib/core/wire/envelope-builders.js';
import { failover, requestSavepoint, restoreFromSavepoint, type SavepointPlan } from './tasks.js';
import type { Task } from './scheduler.js';
import { VISIBILITY_MS, type SimWorld } from './world.js';

/** What faults change of a run, across steps. */
export interface FaultState {
  readonly stats: Record<string, number>;
  /** A stop-with-savepoint on its way, and the restore from it once the job stopped. */
  savepoint: SavepointPlan | null;
  restoring: Task | null;
}

export function injectFault(w: SimWorld, run: FaultState, job: JobRecord | null): void {
  const { random, memory, sent } = w;
  const { stats } = run;
  const f = random();
  if (f < 0.3) {
    w.clock.advance(randomInt(random, VISIBILITY_MS / 2, VISIBILITY_MS + 5000));
    stats.jumps!++;
  } else if (f < 0.7 && sent.length > 0) {
    const s = pick(random, sent);
    memory.queue.injectDuplicate(s.queue, s.group, s.body);
    stats.duplicates!++;
  } else if (f < 0.8 && sent.length > 0) {
    const stage = pick(random, w.base.stages);
    memory.queue.injectDuplicate(stage.queue, '0', pick(random, malformedBodies(w.graph.name)));
  } else if (stats.restores! < 3 && job?.status === 'RUNNING' && !run.savepoint) {
    injectRestore(w, run);
  }
}

/** Bodies every operator must dead-letter: not JSON, a version from the future, and a valid
 *  records envelope addressed to an operator that does not exist. */
const malformedBodies = (job: string) => [
  'not json',
  '{"v":99}',
  envelopes.records({ job, gen: 1, from: { op: 'x', subtask: 0 }, to: { op: 'nope', subtask: 0 } }, 1, '[]', undefined),
];

function injectRestore(w: SimWorld, run: FaultState): void {
  const { random, options } = w;
  const { stats } = run;
  stats.restores!++;
  const rescale = options.topology.rescale;
  const parallelism = rescale && random() < 0.6 ? pick(random, rescale) : {};
  if (Object.keys(parallelism).length > 0) stats.rescales!++;
  if (random() < 0.35) {
    stats.savepoints!++;
    const name = `sp${stats.savepoints}`;
    run.savepoint = { name, byId: random() < 0.5, parallelism };
    requestSavepoint(w, name);
  } else {
    failover(w, parallelism);
  }
}

/**
 * Like a user, retries the restore from the savepoint until the job runs again (the restore
 * task itself may crash before it records anything); forgets the savepoint once it did.
 */
export function resumeFromSavepoint(w: SimWorld, run: FaultState, job: JobRecord | null): void {
  const retrying = run.restoring && !run.restoring.done && !run.restoring.crashed;
  if (job?.status === 'STOPPED' && run.savepoint && !retrying) run.restoring = restoreFromSavepoint(w, run.savepoint);
  if (job?.status !== 'STOPPED' && run.restoring?.done) {
    run.savepoint = null;
    run.restoring = null;
  }
}
