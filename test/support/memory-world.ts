/**
 * A small deterministic world for runtime tests: memory adapters, a manual clock, one queue
 * and DLQ per stage, and a loop that plays Lambda's event source (receive, handle, delete
 * what succeeded) and the coordinator's schedule, one round at a time.
 */
import { memoryPorts, provisionMemoryQueues, ManualClock, type MemoryPorts } from '../../lib/adapters/memory/index.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { compileTopology, type Topology } from '../../lib/core/topology.js';
import { CoordinatorRuntime } from '../../lib/runtime/coordinator-runtime.js';
import { DeadLetterRuntime } from '../../lib/runtime/dead-letter-runtime.js';
import { OperatorRuntime, type OperatorRuntimeOptions } from '../../lib/runtime/operator-runtime.js';
import { RecoveryManager } from '../../lib/runtime/recovery-manager.js';
import { readCommitted } from '../../lib/runtime/sink-reader.js';
import { pollOnce } from '../../local/event-source.js';

export interface World {
  readonly graph: JobGraph;
  readonly topology: Topology;
  readonly clock: ManualClock;
  readonly memory: MemoryPorts;
  readonly runtime: OperatorRuntime;
  readonly coordinator: CoordinatorRuntime;
  readonly recovery: RecoveryManager;
  readonly deadLetters: DeadLetterRuntime;
  /** Lambda's event source for one stage, once: receive a batch, handle it, delete what succeeded. */
  process(stage: string): Promise<number>;
  /** One round: every stage queue once, dead letters, a coordinator tick, then time moves. */
  round(options?: { advanceMs?: number }): Promise<number>;
  /** Rounds until the job is FINISHED and every queue is empty. */
  runToEnd(maxRounds?: number): Promise<void>;
  committed<T>(sink: string): Promise<T[]>;
  job(): ReturnType<MemoryPorts['manifest']['getJob']>;
}

export async function memoryWorld(
  graph: JobGraph,
  options: OperatorRuntimeOptions & {
    maxItemBytes?: number;
    prepare?: (memory: MemoryPorts) => Promise<void>;
    /** Another world's storage and clock: this graph is the next version of that world's job. */
    on?: Pick<World, 'clock' | 'memory'>;
  } = {},
): Promise<World> {
  const clock = options.on?.clock ?? new ManualClock(1_000_000);
  const memory = options.on?.memory ?? memoryPorts(clock, { maxItemBytes: options.maxItemBytes });
  const topology = compileTopology(graph);
  provisionMemoryQueues(memory.queue, topology, { maxReceiveCount: 3 });
  // No waiting inside an invocation: the manual clock only moves between rounds.
  const flow = { permit: async (_t: unknown, _s: unknown, batch: number) => batch, maxPollWaitMs: 0, idlePollMs: 0 };
  const runtime = new OperatorRuntime(graph, memory, { random: () => 0.5, flow, ...options });
  const recovery = new RecoveryManager(graph, memory);
  const coordinator = new CoordinatorRuntime(graph, memory, recovery, { random: () => 0.5 });
  const deadLetters = new DeadLetterRuntime(graph, memory, () => 0.5);
  await options.prepare?.(memory); // input the job reads, before its first poll lists it
  await recovery.start();

  const world: World = {
    graph,
    topology,
    clock,
    memory,
    runtime,
    coordinator,
    recovery,
    deadLetters,
    async process(stage: string) {
      const s = topology.stages.find((x) => x.id === stage)!;
      // Failed messages come back at once: the manual clock never reaches a visibility timeout.
      const options = { max: 10, visibilityTimeoutMs: 30_000, releaseFailed: () => true };
      const { received } = await pollOnce(memory.queue, s.queue, options, async (messages) => ({ returned: await runtime.handleBatch(s.id, messages) }));
      return received.length;
    },
    async round({ advanceMs = 200 } = {}) {
      let handled = 0;
      for (const s of topology.stages) {
        handled += await world.process(s.id);
        const dead = await memory.queue.receive(s.deadLetterQueue, { max: 10, visibilityTimeoutMs: 30_000 });
        if (dead.length > 0) {
          await deadLetters.handle(dead.map((m) => m.body));
          await memory.queue.delete(s.deadLetterQueue, dead.map((m) => m.receiptHandle));
        }
      }
      await coordinator.tick();
      clock.advance(advanceMs);
      return handled;
    },
    async runToEnd(maxRounds = 5000) {
      for (let i = 0; i < maxRounds; i++) {
        await world.round();
        const job = await memory.manifest.getJob(graph.name);
        if (job?.status === 'FAILED') throw new Error(`job failed: ${job.detail}`);
        const pending = topology.stages.reduce((n, s) => n + memory.queue.peek(s.queue).length, 0);
        if (job?.status === 'FINISHED' && pending === 0) return;
      }
      const job = await memory.manifest.getJob(graph.name);
      throw new Error(`job did not finish in ${maxRounds} rounds: ${job?.status} ${job?.detail}`);
    },
    async committed<T>(sink: string) {
      return (await readCommitted<T>(memory.blobs, graph.name, sink)).records;
    },
    job: () => memory.manifest.getJob(graph.name),
  };
  return world;
}

export const sorted = <T>(xs: T[]) => [...xs].map((x) => JSON.stringify(x)).sort();
