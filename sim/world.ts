/**
 * The simulated world of one run: the memory adapters watched by the invariant monitor and
 * instrumented for the seeded scheduler, one FIFO queue (with a FIFO DLQ) per stage, two
 * operator "containers" per stage, the recovery manager, the coordinator and the
 * dead-letter runtime, all drawing from the seed's one random stream.
 *
 * The order of the draws here is part of a seed's identity: building the world draws the
 * item size limit, then the job's own parameters, then the rebase interval.
 */
import { memoryPorts, provisionMemoryQueues, ManualClock, type MemoryPorts } from '../lib/adapters/memory/index.js';
import { evaluateSequentially } from '../lib/api/evaluate.js';
import type { CheckpointMode } from '../lib/core/config.js';
import type { JobGraph } from '../lib/core/graph.js';
import { mulberry32, randomInt, type Random } from '../lib/core/rng.js';
import { compileTopology, type Topology } from '../lib/core/topology.js';
import type { Ports } from '../lib/ports/index.js';
import { CoordinatorRuntime, type CoordinatorOptions } from '../lib/runtime/coordinator-runtime.js';
import { DeadLetterRuntime } from '../lib/runtime/dead-letter-runtime.js';
import { OperatorRuntime, type OperatorRuntimeOptions } from '../lib/runtime/operator-runtime.js';
import { RecoveryManager } from '../lib/runtime/recovery-manager.js';
import { expectedSinkOutput, readSinkOutput } from '../lib/runtime/sink-reader.js';
import { sourceIo } from '../lib/runtime/source-io.js';
import { instrumentedPorts, type SentRecord } from './instrumented-ports.js';
import { InvariantMonitor } from './invariants.js';
import { SimScheduler } from './scheduler.js';
import { diff, type SimJob, type SimTopology } from './topologies.js';

export interface SimOptions {
  readonly topology: SimTopology;
  readonly seed: number;
  readonly mode: CheckpointMode;
  /** Replaces the coordinator's decisions (to prove the invariants catch a broken coordinator). */
  readonly decide?: CoordinatorOptions['decide'];
  /** Replaces the data path's decisions (to prove the simulation catches a broken one:
   *  see broken-deciders.ts). */
  readonly subtaskDecide?: OperatorRuntimeOptions['decide'];
  readonly maxSteps?: number;
  /** Steps during which faults are injected. @default random 300..4000 */
  readonly faultSteps?: number;
  /** Called after the run with the memory world, for debugging. */
  readonly inspect?: (world: { memory: MemoryPorts; graph: JobGraph }) => Promise<void>;
}

export const VISIBILITY_MS = 30_000;
const MAX_RECEIVE = 5;

export interface SimWorld {
  readonly options: SimOptions;
  readonly random: Random;
  readonly clock: ManualClock;
  /** The bare memory adapters: the harness looks and injects here, outside the schedule. */
  readonly memory: MemoryPorts;
  /** What the runtime uses: watched and instrumented. */
  readonly ports: Ports;
  readonly sched: SimScheduler;
  /** Recent sends, for duplicate injection. */
  readonly sent: SentRecord[];
  readonly simJob: SimJob;
  readonly graph: JobGraph;
  readonly base: Topology;
  readonly monitor: InvariantMonitor;
  /** Per stage, the operator runtimes of its two containers. */
  readonly containers: Map<string, OperatorRuntime[]>;
  readonly recovery: RecoveryManager;
  readonly coordinator: CoordinatorRuntime;
  readonly deadLetters: DeadLetterRuntime;
  /** What the sinks hold now against the sequential evaluation (exactly-once: equal). */
  outputDifferences(): Promise<string[]>;
}

export async function buildWorld(options: SimOptions): Promise<SimWorld> {
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
  const outputDifferences = outputComparison(options, memory, graph, simJob.canonical ?? options.topology.canonical);
  const monitor = new InvariantMonitor({ job: graph.name, outputDifferences });
  const ports = instrumentedPorts(monitor.watch(memory), sched, sent);
  const base = compileTopology(graph);
  provisionMemoryQueues(memory.queue, base, { maxReceiveCount: MAX_RECEIVE });
  let nonce = 0;
  const runtimeOptions = {
    persistence: { rebaseEvery: randomInt(random, 2, 8) },
    flow: { permit: async (_t: unknown, _s: unknown, b: number) => b, maxPollWaitMs: 0, idlePollMs: 0 },
    nonce: () => `n${++nonce}`,
    random,
    ...(process.env.SIM_DEBUG ? { logger: { warn: (m: string, d?: unknown) => console.log(`[${clock.now()}] ${m} ${JSON.stringify(d)}`) } } : {}),
    ...(options.subtaskDecide ? { decide: options.subtaskDecide } : {}),
  };
  const containers = new Map(base.stages.map((s) => [s.id as string, [0, 1].map(() => new OperatorRuntime(graph, ports, runtimeOptions))]));
  const recovery = new RecoveryManager(graph, ports, runtimeOptions);
  const coordinator = new CoordinatorRuntime(graph, ports, recovery, { restoreLeaseMs: VISIBILITY_MS, random, ...(options.decide ? { decide: options.decide } : {}) });
  const deadLetters = new DeadLetterRuntime(graph, ports, random);
  return { options, random, clock, memory, ports, sched, sent, simJob, graph, base, monitor, containers, recovery, coordinator, deadLetters, outputDifferences };
}

/** Compares the sinks with the sequential evaluation (computed once, on first use). */
function outputComparison(options: SimOptions, memory: MemoryPorts, graph: JobGraph, canonical: (records: unknown[]) => string[]): () => Promise<string[]> {
  const { topology: topo, mode } = options;
  let evaluation: Awaited<ReturnType<typeof evaluateSequentially>> | null = null;
  return async () => {
    evaluation ??= await evaluateSequentially(graph, sourceIo(memory, graph.name));
    const out: string[] = [];
    for (const sink of topo.sinks) {
      const expected = expectedSinkOutput(graph, sink, evaluation.sinks.get(sink) ?? []) ?? [];
      const actual = (await readSinkOutput(memory, graph, sink)) ?? [];
      if (mode === 'exactly-once') {
        const d = diff(canonical(expected), canonical(actual));
        if (d.length > 0) out.push(`sink ${sink} differs from sequential evaluation: ${d.slice(0, 5).join('; ')}${d.length > 5 ? ` (+${d.length - 5} more)` : ''}`);
      } else {
        out.push(...topo.atLeastOnce(expected, actual).slice(0, 5).map((v) => `sink ${sink}: ${v}`));
      }
    }
    return out;
  };
}
