/**
 * Runs one whole job on the memory adapters under the seeded scheduler and checks it.
 *
 * The world: one FIFO queue (with a FIFO DLQ) per stage, event-source pollers that receive
 * batches and call the operator runtime of one of a stage's "containers", coordinator
 * ticks, dead-letter handling, and a clock moved by the harness. During the fault phase the
 * seed also decides crashes at any port call, stalls past the visibility timeout (zombie
 * invocations), duplicate deliveries, clock jumps that expire checkpoints, and restores
 * (failover to latest, rescaling, stop-with-savepoint then restore from the savepoint by
 * name or by id), which may themselves crash half-way. Then faults stop and the job must
 * finish; its committed output must equal the sequential evaluation.
 *
 * world.ts builds the world, tasks.ts holds what runs on the scheduler, faults.ts what the
 * harness injects; this module plans the run, steps it and checks the end. The random
 * stream is drawn in a fixed order (world, plan, then one action per step), so a seed
 * reproduces its run exactly.
 */
import { isRetryable } from '../lib/core/errors.js';
import type { JobRecord } from '../lib/core/manifest.js';
import { pick, randomInt } from '../lib/core/rng.js';
import { blobKeys } from '../lib/core/wire/storage-keys.js';
import { injectFault, resumeFromSavepoint, type FaultState } from './faults.js';
import { drainDeadLetters, invoke, startJob, tick } from './tasks.js';
import { buildWorld, type SimOptions, type SimWorld } from './world.js';

export type { SimOptions } from './world.js';

export interface SimResult {
  readonly seed: number;
  readonly violations: string[];
  readonly steps: number;
  readonly stats: Record<string, number>;
}

/** A run's plan and what it found; the seed's draws fix both. */
interface Run extends FaultState {
  readonly maxSteps: number;
  /** Faults are injected in steps [faultStart, faultEnd). */
  readonly faultStart: number;
  readonly faultEnd: number;
  readonly violations: string[];
}

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const w = await buildWorld(options);
  const run = planRun(w);
  startJob(w);
  const { steps, finished } = await stepLoop(w, run);
  await finalChecks(w, run, finished);
  await options.inspect?.({ memory: w.memory, graph: w.graph });
  const restoreCrashes = w.sched.crashes.filter((c) => RESTORE_TASKS.has(c.task)).length;
  return { seed: options.seed, violations: run.violations, steps, stats: { ...run.stats, ...w.sched.stats, restoreCrashes, ...prefixed('restored', w.recovery.stats) } };
}

/** Tasks that only restore: a crash in one is a restore crashed half-way (at a port call). */
const RESTORE_TASKS: ReadonlySet<string> = new Set(['start', 'restore', 'restore-savepoint']);

function planRun(w: SimWorld): Run {
  const { options, random } = w;
  const stats: Record<string, number> = { restores: 0, rescales: 0, savepoints: 0, duplicates: 0, jumps: 0, malformed: 0, retriedTasks: 0 };
  // Faults start after a random warm-up (so some runs restore from completed checkpoints)
  // and stop after a while (so every run must finish).
  const faultStart = options.faultSteps === 0 ? 0 : randomInt(random, 0, 1500);
  const faultEnd = faultStart + (options.faultSteps ?? randomInt(random, 300, 4000));
  return { stats, maxSteps: options.maxSteps ?? 60_000, faultStart, faultEnd, violations: [], savepoint: null, restoring: null };
}

/** Steps until the job FAILED, or FINISHED with nothing left to run or deliver. */
async function stepLoop(w: SimWorld, run: Run): Promise<{ steps: number; finished: boolean }> {
  let jobCache: JobRecord | null = null;
  let step = 0;
  for (; step < run.maxSteps; step++) {
    const faulty = step >= run.faultStart && step < run.faultEnd;
    w.sched.options.crashProbability = faulty ? 0.004 : 0;
    w.sched.options.stallProbability = faulty ? 0.002 : 0;
    w.sched.options.lostResponseProbability = faulty ? 0.01 : 0;
    const job = step % 16 === 0 || jobCache === null ? (jobCache = await w.memory.manifest.getJob(w.graph.name)) : jobCache;
    if (job?.status === 'FAILED') {
      run.violations.push(`job FAILED: ${job.detail}`);
      break;
    }
    if (job?.status === 'FINISHED' && w.sched.busy === 0 && pendingMessages(w) === 0) return { steps: step, finished: true };
    resumeFromSavepoint(w, run, job);
    await act(w, run, job, faulty);
  }
  return { steps: step, finished: false };
}

const pendingMessages = (w: SimWorld) =>
  w.base.stages.reduce((n, s) => n + w.memory.queue.peek(s.queue).length + w.memory.queue.peek(s.deadLetterQueue).length, 0);

/** One step's action, chosen by the seed: run a task a step, invoke a stage, tick the
 *  coordinator, move the clock, drain a dead-letter queue, or (fault phase) inject a fault. */
async function act(w: SimWorld, run: Run, job: JobRecord | null, faulty: boolean): Promise<void> {
  const { random, sched, base } = w;
  const r = random();
  if (r < 0.6 && sched.runnable().length > 0) {
    await sched.step();
  } else if (r < 0.9) {
    if (sched.busy < 10) {
      const stage = pick(random, base.stages);
      invoke(w, stage.id, stage.queue);
    }
  } else if (r < 0.93) {
    if (sched.tasks().filter((t) => t.name === 'tick').length < 2) tick(w);
  } else if (r < 0.98) {
    w.clock.advance(randomInt(random, 10, 300));
  } else if (r < 0.99) {
    const stage = pick(random, base.stages);
    if (w.memory.queue.peek(stage.deadLetterQueue).length > 0) drainDeadLetters(w, stage.deadLetterQueue, run.stats);
  } else if (faulty) {
    injectFault(w, run, job);
  }
}

/**
 * A retryable error ends a coordinator tick, a dead-letter drain or a restore the way a
 * failed Lambda invocation ends: it runs again later. Anything else is a bug. A run without
 * violations so far must have finished with exactly the sequential output and the expected
 * dead letters.
 */
async function finalChecks(w: SimWorld, run: Run, finished: boolean): Promise<void> {
  const { violations, stats } = run;
  for (const f of w.sched.failures) {
    if (isRetryable(f.error)) stats.retriedTasks!++;
    else violations.push(`task ${f.task} threw: ${String(f.error)}`);
  }
  violations.push(...w.monitor.violations);
  if (!finished && violations.length === 0) {
    const job = await w.memory.manifest.getJob(w.graph.name);
    violations.push(`did not finish in ${run.maxSteps} steps (status ${job?.status}, gen ${job?.gen}, detail ${job?.detail})`);
  }
  if (violations.length === 0) {
    violations.push(...(await w.outputDifferences()));
    const expected = w.simJob.deadLetters ?? 0;
    const dead = (await w.memory.blobs.list(blobKeys.deadLettersPrefix(w.graph.name))).length;
    if (dead !== expected) violations.push(`${dead} dead-lettered input lines, expected ${expected}`);
  }
}

const prefixed = (prefix: string, o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}.${k}`, v]));
