/**
 * State benchmark on the memory adapters (`npm run bench:state`): what a checkpoint costs as the
 * keyed state grows while the update rate stays the same — the yardstick of incremental
 * checkpoints (issue "checkpoints that cost what changed").
 *
 * The job: a `preload` source writes N distinct keys once, as fast as it can; a `hot` source
 * updates 100 hot keys at a fixed rate; both feed one keyed process function that keeps a
 * count per key and emits nothing (so sinks cost nothing). Parallelism 2, a checkpoint every
 * second. Figures are taken once the preload has finished (steady state):
 * - bytesPerCheckpoint: snapshot bytes acknowledged per completed checkpoint (median: with
 *   incremental checkpoints, a delta); bytesPerCheckpointMean: the mean, full snapshots
 *   (one in `fullSnapshotEvery` checkpoints at most) included, and fullSnapshotBytes (the largest);
 * - checkpointP50Ms: trigger to completion (median);
 * - restoreMs: a restore from the latest checkpoint, to RUNNING; restoreObjects: snapshot
 *   objects it read (a chain's full snapshot and deltas, for every subtask);
 * - recordsPerSec: hot records processed per second of the steady phase.
 * Then the backpressure case: the same job at 1 k keys with the keyed stage ten times slower
 * than its input (each record of it costs the time of ten), reporting checkpointP95Ms.
 *
 * Sizes from BENCH_STATE_KEYS (comma-separated, default 1000,100000,1000000). The last line is
 * one JSON object.
 */
import { generator, job, print, valueState } from '../lib/api/index.js';
import { memoryPorts, provisionMemoryQueues } from '../lib/adapters/memory/index.js';
import type { JobGraph } from '../lib/core/graph.js';
import { hasCompleted } from '../lib/core/manifest.js';
import { compileTopology } from '../lib/core/topology.js';
import { systemClock } from '../lib/ports/clock.js';
import { checkpointPacedFlow } from '../lib/runtime/flow-control.js';
import { LocalLambdaHost } from '../local/lambda-host.js';

const SIZES = (process.env.BENCH_STATE_KEYS ?? '1000,100000,1000000').split(',').map(Number);
const HOT_KEYS = 100;
const HOT_RATE = Number(process.env.BENCH_STATE_RATE ?? 20_000);
const STEADY_SECONDS = Number(process.env.BENCH_STATE_SECONDS ?? 12);
const INTERVAL_MS = 1000;

function stateJob(keys: number, slowdown: number): JobGraph {
  const j = job(`state-${keys}-${slowdown}`, { parallelism: 2, checkpoints: { interval: INTERVAL_MS, timeout: 120_000, tolerableFailedCheckpoints: 100 } });
  const preload = j.source('preload', generator({ count: keys, batchSize: 2000, make: (i) => `k${i}` }), { parallelism: 1 });
  // Enough hot records for the steady phase; the run is stopped once it has been measured.
  const hot = j.source('hot', generator({ count: HOT_RATE * (STEADY_SECONDS + 600), rate: HOT_RATE, batchSize: 500, make: (i) => `h${i % HOT_KEYS}` }), { parallelism: 1 });
  preload
    .union(hot)
    .keyBy((k) => k)
    .process('count', {
      state: { n: valueState<number>() },
      processElement(_k, ctx) {
        // The slow stage of the backpressure case burns the time of `slowdown` records.
        for (let s = 1; s < slowdown; s++) busy(20_000);
        ctx.state.n.update((ctx.state.n.value() ?? 0) + 1);
      },
    })
    .sink('none', print({ prefix: '' }));
  return j.build();
}

let sink = 0;
function busy(n: number): void {
  for (let i = 0; i < n; i++) sink = (sink + i) % 1_000_003;
}

interface Measured {
  readonly keys: number;
  readonly bytesPerCheckpoint: number;
  readonly bytesPerCheckpointMean: number;
  readonly fullSnapshotBytes: number;
  readonly restoreObjects: number;
  readonly checkpointP50Ms: number;
  readonly checkpointP95Ms: number;
  readonly restoreMs: number;
  readonly recordsPerSec: number;
  readonly checkpoints: number;
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function measure(keys: number, slowdown = 1): Promise<Measured> {
  const graph = stateJob(keys, slowdown);
  const ports = memoryPorts(systemClock);
  const topology = compileTopology(graph);
  provisionMemoryQueues(ports.queue, topology, { maxReceiveCount: 100 });
  const host = new LocalLambdaHost(graph, ports, { heartbeatMs: 20, idleMs: 1, runtime: { print: () => {}, flow: checkpointPacedFlow(ports.queue, graph.checkpoints.interval, () => ports.clock.now()) } });
  await host.recovery.start();
  host.start();
  try {
    const steadyFrom = await until(async () => {
      const j = await ports.manifest.getJob(graph.name);
      if (j?.status === 'FAILED') throw new Error(`job failed: ${j.detail}`);
      return j?.sourcesFinished.includes('preload/0') ? Date.now() : null;
    });
    const hotAtStart = host.records.sourceRecords;
    await new Promise((r) => setTimeout(r, STEADY_SECONDS * 1000));
    const hotRecords = host.records.sourceRecords - hotAtStart;
    const checkpoints = (await ports.manifest.listCheckpoints(graph.name, { limit: 1000 })).filter(
      (c) => hasCompleted(c) && c.triggeredAt >= steadyFrom,
    );
    const bytes = checkpoints.map((c) => c.bytes);
    const durations = checkpoints.map((c) => c.completedAt! - c.triggeredAt);
    await host.stop();
    const objectsBefore = host.recovery.stats.snapshotObjects;
    const started = performance.now();
    const restored = await host.recovery.restore({ request: { kind: 'latest' }, reason: 'bench: restore' });
    const restoreMs = performance.now() - started;
    if (restored?.status !== 'RUNNING') throw new Error(`restore ended ${restored?.status}`);
    return {
      keys,
      bytesPerCheckpoint: quantile(bytes, 0.5),
      bytesPerCheckpointMean: Math.round(bytes.reduce((a, b) => a + b, 0) / Math.max(1, bytes.length)),
      fullSnapshotBytes: Math.max(0, ...bytes),
      restoreObjects: host.recovery.stats.snapshotObjects - objectsBefore,
      checkpointP50Ms: quantile(durations, 0.5),
      checkpointP95Ms: quantile(durations, 0.95),
      restoreMs: Math.round(restoreMs),
      recordsPerSec: Math.round(hotRecords / STEADY_SECONDS),
      checkpoints: checkpoints.length,
    };
  } finally {
    await host.stop();
  }
}

async function until<T>(probe: () => Promise<T | null>): Promise<T> {
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
}

const results: Measured[] = [];
for (const keys of SIZES) {
  const m = await measure(keys);
  results.push(m);
  console.log(
    `${keys} keys: ${(m.bytesPerCheckpoint / 1e6).toFixed(3)} MB per checkpoint (mean ${(m.bytesPerCheckpointMean / 1e6).toFixed(3)}, largest ${(m.fullSnapshotBytes / 1e6).toFixed(3)}), ` +
      `p50 ${m.checkpointP50Ms} ms, restore ${m.restoreMs} ms from ${m.restoreObjects} objects, ${m.recordsPerSec} records/s (${m.checkpoints} checkpoints)`,
  );
}
const slow = await measure(SIZES[0]!, 10);
console.log(`backpressure (${SIZES[0]} keys, keyed stage 10× slower): checkpoint p95 ${slow.checkpointP95Ms} ms (interval ${INTERVAL_MS} ms), ${slow.recordsPerSec} records/s`);
const by = (f: (m: Measured) => number) => Object.fromEntries(results.map((m) => [String(m.keys), f(m)]));
console.log(
  JSON.stringify({
    bytesPerCheckpoint: by((m) => m.bytesPerCheckpoint),
    bytesPerCheckpointMean: by((m) => m.bytesPerCheckpointMean),
    checkpointP50Ms: by((m) => m.checkpointP50Ms),
    restoreMs: by((m) => m.restoreMs),
    restoreObjects: by((m) => m.restoreObjects),
    recordsPerSec: by((m) => m.recordsPerSec),
    backpressureCheckpointP95Ms: slow.checkpointP95Ms,
    intervalMs: INTERVAL_MS,
  }),
);
