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
 */
import { memoryPorts, ManualClock } from '../lib/adapters/memory/index.js';
import { evaluateSequentially } from '../lib/api/evaluate.js';
import type { CheckpointMode } from '../lib/core/config.js';
import { isRetryable } from '../lib/core/errors.js';
import { mulberry32, pick, randomInt } from '../lib/core/rng.js';
import { compileTopology } from '../lib/core/topology.js';
import { CoordinatorRuntime, type CoordinatorOptions } from '../lib/runtime/coordinator-runtime.js';
import { DeadLetterRuntime } from '../lib/runtime/dead-letter-runtime.js';
import { updateJob } from '../lib/runtime/job-records.js';
import { OperatorRuntime } from '../lib/runtime/operator-runtime.js';
import { RecoveryManager } from '../lib/runtime/recovery-manager.js';
import { expectedSinkOutput, readSinkOutput } from '../lib/runtime/sink-reader.js';
import { sourceIo } from '../lib/runtime/source-io.js';
import type { JobGraph } from '../lib/core/graph.js';
import type { UnsafeSwitches } from '../lib/runtime/subtask-invocation.js';
import { instrumentedPorts, type SentRecord } from './instrumented-ports.js';
import { InvariantMonitor } from './invariants.js';
import { SimScheduler, type Task } from './scheduler.js';
import { diff, type SimTopology } from './topologies.js';

export interface SimOptions {
  readonly topology: SimTopology;
  readonly seed: number;
  readonly mode: CheckpointMode;
  readonly unsafe?: UnsafeSwitches;
  /** Wraps the coordinator's decisions (to prove the invariants catch a broken coordinator). */
  readonly decide?: CoordinatorOptions['decide'];
  readonly maxSteps?: number;
  /** Steps during which faults are injected. @default random 300..4000 */
  readonly faultSteps?: number;
  /** Called after the run with the memory world, for debugging. */
  readonly inspect?: (world: { memory: ReturnType<typeof memoryPorts>; graph: JobGraph }) => Promise<void>;
}

export interface SimResult {
  readonly seed: number;
  readonly violations: string[];
  readonly steps: number;
  readonly stats: Record<string, number>;
}

const VISIBILITY_MS = 30_000;
const MAX_RECEIVE = 5;

export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const { topology: topo, seed, mode } = options;
  const random = mulberry32(seed);
  const clock = new ManualClock(1_000_000);
  const memory = memoryPorts(clock, { maxItemBytes: random() < 0.3 ? 1500 : undefined });
  const sched = new SimScheduler({
    random,
    now: () => clock.now(),
    crashProbability: 0.004,
    stallProbability: 0.002,
    stallMs: VISIBILITY_MS + 5000,
    lostResponseProbability: 0,
  });
  const sent: SentRecord[] = [];
  const simJob = topo.build({ mode, random });
  const graph = simJob.graph;
  await simJob.prepare?.(memory);
  let evaluation: Awaited<ReturnType<typeof evaluateSequentially>> | null = null;
  /** What the sinks hold now against the sequential evaluation (exactly-once: equal). */
  const outputDifferences = async (): Promise<string[]> => {
    evaluation ??= await evaluateSequentially(graph, sourceIo(memory, graph.name));
    const out: string[] = [];
    for (const sink of topo.sinks) {
      const expected = expectedSinkOutput(graph, sink, evaluation.sinks.get(sink) ?? []) ?? [];
      const actual = (await readSinkOutput(memory, graph, sink)) ?? [];
      if (mode === 'exactly-once') {
        const d = diff(topo.canonical(expected), topo.canonical(actual));
        if (d.length > 0) out.push(`sink ${sink} differs from sequential evaluation: ${d.slice(0, 5).join('; ')}${d.length > 5 ? ` (+${d.length - 5} more)` : ''}`);
      } else {
        out.push(...topo.atLeastOnce(expected, actual).slice(0, 5).map((v) => `sink ${sink}: ${v}`));
      }
    }
    return out;
  };
  const monitor = new InvariantMonitor({ job: graph.name, outputDifferences });
  const ports = instrumentedPorts(monitor.watch(memory), sched, sent);
  const base = compileTopology(graph);
  for (const stage of base.stages) {
    memory.queue.createQueue(stage.deadLetterQueue);
    memory.queue.createQueue(stage.queue, { deadLetterQueue: stage.deadLetterQueue, maxReceiveCount: MAX_RECEIVE });
  }
  let nonce = 0;
  const runtimeOptions = {
    persistence: { rebaseEvery: randomInt(random, 2, 8) },
    flow: { permit: async (_t: unknown, _s: unknown, b: number) => b, maxPollWaitMs: 0, idlePollMs: 0 },
    nonce: () => `n${++nonce}`,
    random,
    ...(process.env.SIM_DEBUG ? { logger: { warn: (m: string, d?: unknown) => console.log(`[${clock.now()}] ${m} ${JSON.stringify(d)}`) } } : {}),
    ...(options.unsafe ? { unsafe: options.unsafe } : {}),
  };
  const containers = new Map(base.stages.map((s) => [s.id as string, [0, 1].map(() => new OperatorRuntime(graph, ports, runtimeOptions))]));
  const recovery = new RecoveryManager(graph, ports, runtimeOptions, (step) => sched.point(`restore:${step}`));
  const coordinator = new CoordinatorRuntime(graph, ports, recovery, { restoreLeaseMs: VISIBILITY_MS, random, ...(options.decide ? { decide: options.decide } : {}) });
  const deadLetters = new DeadLetterRuntime(graph, ports, random);

  const stats: Record<string, number> = { restores: 0, rescales: 0, savepoints: 0, duplicates: 0, jumps: 0, malformed: 0, retriedTasks: 0 };
  const maxSteps = options.maxSteps ?? 60_000;
  // Faults start after a random warm-up (so some runs restore from completed checkpoints)
  // and stop after a while (so every run must finish).
  const faultStart = options.faultSteps === 0 ? 0 : randomInt(random, 0, 1500);
  const faultSteps = faultStart + (options.faultSteps ?? randomInt(random, 300, 4000));
  let savepoint: { name: string; byId: boolean; parallelism: Record<string, number> } | null = null;
  let restoring: Task | null = null;
  const violations: string[] = [];

  const invoke = (stageId: string, queue: string) =>
    sched.spawn(`invoke:${stageId}`, async () => {
      const messages = await ports.queue.receive(queue, { max: randomInt(random, 1, 10), visibilityTimeoutMs: VISIBILITY_MS });
      if (messages.length === 0) return;
      const runtime = pick(random, containers.get(stageId)!);
      const response = await runtime.handleBatch(stageId, messages);
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const done = messages.filter((m) => !failed.has(m.messageId)).map((m) => m.receiptHandle);
      if (done.length > 0) await ports.queue.delete(queue, done);
      for (const m of messages) if (failed.has(m.messageId) && random() < 0.5) await ports.queue.changeVisibility(queue, m.receiptHandle, 0);
    });

  const drainDeadLetters = (queue: string) =>
    sched.spawn('dead-letters', async () => {
      const messages = await ports.queue.receive(queue, { max: 10, visibilityTimeoutMs: VISIBILITY_MS });
      if (messages.length === 0) return;
      const report = await deadLetters.handle(messages.map((m) => m.body));
      stats.malformed! += report.malformed;
      await ports.queue.delete(queue, messages.map((m) => m.receiptHandle));
    });

  // Like a user, submit again until the job item is there (a start may see a lost response).
  sched.spawn('start', async () => {
    for (;;) {
      try {
        await recovery.start();
        return;
      } catch (e) {
        if (!isRetryable(e)) throw e;
      }
    }
  });

  let step = 0;
  let finishedAt = -1;
  let jobCache: Awaited<ReturnType<typeof memory.manifest.getJob>> = null;
  for (; step < maxSteps; step++) {
    const faulty = step >= faultStart && step < faultSteps;
    sched.options.crashProbability = faulty ? 0.004 : 0;
    sched.options.stallProbability = faulty ? 0.002 : 0;
    sched.options.lostResponseProbability = faulty ? 0.01 : 0;
    const job = step % 16 === 0 || jobCache === null ? (jobCache = await memory.manifest.getJob(graph.name)) : jobCache;
    if (job?.status === 'FAILED') {
      violations.push(`job FAILED: ${job.detail}`);
      break;
    }
    if (job?.status === 'FINISHED' && sched.busy === 0) {
      const pending = base.stages.reduce((n, s) => n + memory.queue.peek(s.queue).length + memory.queue.peek(s.deadLetterQueue).length, 0);
      if (pending === 0) {
        finishedAt = step;
        break;
      }
    }
    // Like a user, retry the restore from the savepoint until the job runs again (the
    // restore task itself may crash before it records anything).
    if (job?.status === 'STOPPED' && savepoint && !(restoring && !restoring.done && !restoring.crashed)) {
      const sp = savepoint;
      restoring = sched.spawn('restore-savepoint', async () => {
        const checkpoints = await ports.manifest.listCheckpoints(graph.name);
        const target = checkpoints.find((c) => c.savepoint === sp.name && c.status === 'COMPLETED');
        if (!target) throw new Error(`stopped, but savepoint ${sp.name} is not completed`);
        await recovery.restore({
          request: sp.byId ? { kind: 'checkpoint', checkpoint: target.id } : { kind: 'savepoint', name: sp.name },
          reason: 'resume from savepoint',
          parallelism: sp.parallelism,
        });
      });
    }
    if (job?.status !== 'STOPPED' && restoring?.done) {
      savepoint = null;
      restoring = null;
    }

    const r = random();
    if (r < 0.6 && sched.runnable().length > 0) {
      await sched.step();
    } else if (r < 0.9) {
      if (sched.busy < 10) {
        const stage = pick(random, base.stages);
        invoke(stage.id, stage.queue);
      }
    } else if (r < 0.93) {
      if (sched.tasks().filter((t) => t.name === 'tick').length < 2) sched.spawn('tick', async () => void (await coordinator.tick()));
    } else if (r < 0.98) {
      clock.advance(randomInt(random, 10, 300));
    } else if (r < 0.99) {
      const stage = pick(random, base.stages);
      if (memory.queue.peek(stage.deadLetterQueue).length > 0) drainDeadLetters(stage.deadLetterQueue);
    } else if (faulty) {
      const f = random();
      if (f < 0.3) {
        clock.advance(randomInt(random, VISIBILITY_MS / 2, VISIBILITY_MS + 5000));
        stats.jumps!++;
      } else if (f < 0.7 && sent.length > 0) {
        const s = pick(random, sent);
        memory.queue.injectDuplicate(s.queue, s.group, s.body);
        stats.duplicates!++;
      } else if (f < 0.8 && sent.length > 0) {
        const stage = pick(random, base.stages);
        memory.queue.injectDuplicate(stage.queue, '0', pick(random, ['not json', '{"v":99}', `{"v":1,"job":"${graph.name}","gen":1,"kind":"records","from":{"op":"x","subtask":0},"to":{"op":"nope","subtask":0},"seq":1,"recs":[]}`]));
      } else if (stats.restores! < 3 && job?.status === 'RUNNING' && !savepoint) {
        stats.restores!++;
        const parallelism = topo.rescale && random() < 0.6 ? pick(random, topo.rescale) : {};
        if (Object.keys(parallelism).length > 0) stats.rescales!++;
        if (random() < 0.35) {
          stats.savepoints!++;
          const name = `sp${stats.savepoints}`;
          savepoint = { name, byId: random() < 0.5, parallelism };
          sched.spawn('request-savepoint', async () => {
            await updateJob(ports.manifest, graph.name, (j) => (j.status === 'RUNNING' ? { ...j, savepointRequest: { name, stop: true } } : null));
          });
        } else {
          sched.spawn('restore', async () => {
            await recovery.restore({ request: { kind: 'latest' }, reason: 'simulated failover', parallelism });
          });
        }
      }
    }
  }

  // A retryable error ends a coordinator tick, a dead-letter drain or a restore the way a
  // failed Lambda invocation ends: it runs again later. Anything else is a bug.
  for (const f of sched.failures) {
    if (isRetryable(f.error)) stats.retriedTasks!++;
    else violations.push(`task ${f.task} threw: ${String(f.error)}`);
  }
  violations.push(...monitor.violations);
  if (finishedAt < 0 && violations.length === 0) {
    const job = await memory.manifest.getJob(graph.name);
    violations.push(`did not finish in ${maxSteps} steps (status ${job?.status}, gen ${job?.gen}, detail ${job?.detail})`);
  }
  if (violations.length === 0) {
    violations.push(...(await outputDifferences()));
    const dead = (await memory.blobs.list(`jobs/${graph.name}/dead-letters/`)).length;
    if (dead !== (simJob.deadLetters ?? 0)) violations.push(`${dead} dead-lettered input lines, expected ${simJob.deadLetters ?? 0}`);
  }
  await options.inspect?.({ memory, graph });
  return { seed, violations, steps: step, stats: { ...stats, ...sched.stats, ...prefixed('restored', recovery.stats) } };
}

const prefixed = (prefix: string, o: Record<string, number>) =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [`${prefix}.${k}`, v]));
