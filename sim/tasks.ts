/**
 * The tasks a simulated run spawns on the scheduler, each what a piece of AWS would run:
 * the event source's poller calling an operator container, the dead-letter handler, a
 * coordinator tick, a user submitting the job, requesting a savepoint or restoring. Each
 * draws from the world's random stream only while it runs, never when it is spawned.
 */
import { isRetryable } from '../lib/core/errors.js';
import { pick, randomInt } from '../lib/core/rng.js';
import { updateJob } from '../lib/runtime/job-records.js';
import type { ParallelismOverrides } from '../lib/core/topology.js';
import { pollOnce } from '../local/event-source.js';
import type { Task } from './scheduler.js';
import { VISIBILITY_MS, type SimWorld } from './world.js';

/** Lambda's SQS event source for one stage: a batch to one of its containers, then delete
 *  what succeeded and (sometimes) make the failures visible again at once. */
export const invoke = (w: SimWorld, stageId: string, queue: string): Task =>
  w.sched.spawn(`invoke:${stageId}`, async () => {
    const { ports, random } = w;
    // Draws, in order: the batch size, the container, then one per failed message.
    const options = { max: randomInt(random, 1, 10), visibilityTimeoutMs: VISIBILITY_MS, releaseFailed: () => random() < 0.5 };
    await pollOnce(ports.queue, queue, options, async (messages) => ({ returned: await pick(random, w.containers.get(stageId)!).handleBatch(stageId, messages) }));
  });

/** The dead-letter handler on one DLQ; counts the malformed messages it saw. */
export const drainDeadLetters = (w: SimWorld, queue: string, stats: Record<string, number>): Task =>
  w.sched.spawn('dead-letters', async () => {
    const messages = await w.ports.queue.receive(queue, { max: 10, visibilityTimeoutMs: VISIBILITY_MS });
    if (messages.length === 0) return;
    const report = await w.deadLetters.handle(messages.map((m) => m.body));
    stats.malformed! += report.malformed;
    await w.ports.queue.delete(queue, messages.map((m) => m.receiptHandle));
  });

/** Like a user, submit again until the job item is there (a start may see a lost response). */
export const startJob = (w: SimWorld): Task =>
  w.sched.spawn('start', async () => {
    for (;;) {
      try {
        await w.recovery.start();
        return;
      } catch (e) {
        if (!isRetryable(e)) throw e;
      }
    }
  });

export const tick = (w: SimWorld): Task => w.sched.spawn('tick', async () => void (await w.coordinator.tick()));

export interface SavepointPlan {
  readonly name: string;
  /** Restore it by checkpoint id, else by name. */
  readonly byId: boolean;
  readonly parallelism: ParallelismOverrides;
}

export const requestSavepoint = (w: SimWorld, name: string): Task =>
  w.sched.spawn('request-savepoint', async () => {
    await updateJob(w.ports.manifest, w.graph.name, (j) => (j.status === 'RUNNING' ? { ...j, savepointRequest: { name, stop: true } } : null));
  });

export const restoreFromSavepoint = (w: SimWorld, sp: SavepointPlan): Task =>
  w.sched.spawn('restore-savepoint', async () => {
    const checkpoints = await w.ports.manifest.listCheckpoints(w.graph.name);
    const target = checkpoints.find((c) => c.savepoint === sp.name && c.status === 'COMPLETED');
    if (!target) throw new Error(`stopped, but savepoint ${sp.name} is not completed`);
    await w.recovery.restore({
      request: sp.byId ? { kind: 'checkpoint', checkpoint: target.id } : { kind: 'savepoint', name: sp.name },
      reason: 'resume from savepoint',
      parallelism: sp.parallelism,
    });
  });

export const failover = (w: SimWorld, parallelism: ParallelismOverrides): Task =>
  w.sched.spawn('restore', async () => {
    await w.recovery.restore({ request: { kind: 'latest' }, reason: 'simulated failover', parallelism });
  });
