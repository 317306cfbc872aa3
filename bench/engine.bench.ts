/**
 * Engine benchmark on the memory adapters (`npm run bench`): a 3-stage keyed pipeline
 * (source+map → keyBy → aggregate → sink at another parallelism) run to completion with
 * checkpointing off and with a checkpoint every second, and the floor: a plain JSON encode
 * and decode of the same records in buffers of the same size. Each configuration runs
 * three times, alternating, and the best run counts (the machine is shared and noisy). Then
 * the word count of examples/wordcount.ts (1 M lines of the shipped corpus, parallelism 2, a
 * checkpoint every second) in lines per CPU-second of this process, best of two, beside its floor
 * (the same functions in one loop, no engine: bench/wordcount.ts).
 * The last line is one JSON object with every figure.
 */
import { memoryPorts, provisionMemoryQueues } from '../lib/adapters/memory/index.js';
import type { JobGraph } from '../lib/core/graph.js';
import { compileTopology } from '../lib/core/topology.js';
import { systemClock } from '../lib/ports/clock.js';
import { readCommitted } from '../lib/runtime/sink-reader.js';
import { LocalLambdaHost } from '../local/lambda-host.js';
import { benchEvent, benchPipeline } from './pipeline.js';
import { runWordcount, wordcountFloor } from './wordcount.js';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 2_400_000);
const BATCH = 2000;
const USERS = 1000;

const pipeline = (interval: number | null): JobGraph => benchPipeline({ name: 'bench', records: RECORDS, batchSize: BATCH, users: USERS, interval });

interface RunResult {
  readonly seconds: number;
  readonly recordsPerSec: number;
  readonly checkpointsCompleted: number;
  readonly committed: number;
  readonly heapMB: number;
}

async function run(interval: number | null): Promise<RunResult> {
  const graph = pipeline(interval);
  const ports = memoryPorts(systemClock);
  const topology = compileTopology(graph);
  provisionMemoryQueues(ports.queue, topology, { maxReceiveCount: 5 });
  let completed = 0;
  const ack = ports.manifest.ack.bind(ports.manifest);
  ports.manifest.ack = async (...args) => {
    const outcome = await ack(...args);
    if (outcome.kind === 'completed') completed++;
    return outcome;
  };
  // In memory the coordinator can tick often: a 20 ms heartbeat stands in for the timer chain.
  const host = new LocalLambdaHost(graph, ports, { heartbeatMs: 20, idleMs: 1 });
  global.gc?.();
  const started = performance.now();
  await host.recovery.start();
  host.start();
  let peakHeap = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
    const j = await ports.manifest.getJob(graph.name);
    if (j?.status === 'FINISHED') break;
    if (j?.status === 'FAILED') throw new Error(`benchmark job failed: ${j.detail}`);
  }
  const seconds = (performance.now() - started) / 1000;
  await host.stop();
  const committed = (await readCommitted(ports.blobs, graph.name, 'out')).records.length;
  if (committed !== RECORDS) throw new Error(`committed ${committed} records, expected ${RECORDS}`);
  return { seconds, recordsPerSec: RECORDS / seconds, checkpointsCompleted: completed, committed, heapMB: peakHeap / 2 ** 20 };
}

function jsonFloor(): number {
  const records = Array.from({ length: RECORDS }, (_, i) => benchEvent(i, USERS));
  const started = performance.now();
  let n = 0;
  for (let i = 0; i < records.length; i += BATCH) {
    const body = JSON.stringify(records.slice(i, i + BATCH));
    n += (JSON.parse(body) as unknown[]).length;
  }
  if (n !== RECORDS) throw new Error('floor lost records');
  return RECORDS / ((performance.now() - started) / 1000);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
console.log(`tidemark engine benchmark: ${fmt(RECORDS)} records, 3 stages (events+enrich → totals → out), memory adapters`);
const off: RunResult[] = [];
const on: RunResult[] = [];
const floor: number[] = [];
for (let round = 1; round <= 3; round++) {
  floor.push(jsonFloor());
  off.push(await run(null));
  on.push(await run(1000));
  console.log(
    `round ${round}: off ${fmt(off.at(-1)!.recordsPerSec)} rec/s (${off.at(-1)!.seconds.toFixed(2)} s), ` +
      `on ${fmt(on.at(-1)!.recordsPerSec)} rec/s (${on.at(-1)!.seconds.toFixed(2)} s, ${on.at(-1)!.checkpointsCompleted} checkpoints), ` +
      `JSON floor ${fmt(floor.at(-1)!)} rec/s`,
  );
}
const wordcounts = [];
const floors: number[] = [];
const wordcountLines = Number(process.env.BENCH_WORDCOUNT_LINES ?? 1_000_000);
for (let round = 1; round <= 2; round++) {
  global.gc?.();
  floors.push(wordcountFloor(wordcountLines));
  const w = await runWordcount(wordcountLines);
  wordcounts.push(w);
  console.log(
    `word count ${round}: ${fmt(w.lines)} lines in ${w.cpuSeconds.toFixed(2)} CPU-s (${w.wallSeconds.toFixed(2)} s), ${fmt(w.linesPerCpuSecond)} lines per CPU-second, ` +
      `${w.checkpoints} checkpoints; its functions alone in one loop: ${fmt(floors.at(-1)!)} lines per CPU-second`,
  );
}
const wordcountLinesPerCpuSecond = Math.round(Math.max(...wordcounts.map((w) => w.linesPerCpuSecond)));
const wordcountFloorLinesPerCpuSecond = Math.round(Math.max(...floors));
const best = (rs: RunResult[]) => rs.reduce((a, b) => (b.recordsPerSec > a.recordsPerSec ? b : a));
const bestOff = best(off);
const bestOn = best(on);
const jsonFloorRecordsPerSec = Math.max(...floor);
const result = {
  records: RECORDS,
  recordsPerSecOff: Math.round(bestOff.recordsPerSec),
  recordsPerSecOn: Math.round(bestOn.recordsPerSec),
  ratio: Number((bestOn.recordsPerSec / bestOff.recordsPerSec).toFixed(3)),
  jsonFloorRecordsPerSec: Math.round(jsonFloorRecordsPerSec),
  onVsFloor: Number((bestOn.recordsPerSec / jsonFloorRecordsPerSec).toFixed(3)),
  checkpointsCompleted: bestOn.checkpointsCompleted,
  secondsOn: Number(bestOn.seconds.toFixed(2)),
  peakHeapMB: Math.round(Math.max(bestOn.heapMB, bestOff.heapMB)),
  wordcountLinesPerCpuSecond,
  wordcountFloorLinesPerCpuSecond,
  wordcountOfFloor: Number((wordcountLinesPerCpuSecond / wordcountFloorLinesPerCpuSecond).toFixed(3)),
};
console.log(`ratio on/off ${result.ratio} (target ≥ 0.95); on vs JSON floor ${result.onVsFloor} (target ≥ 0.25); word count ${fmt(wordcountLinesPerCpuSecond)} lines per CPU-second (target ≥ 340,000; the job's functions alone: ${fmt(wordcountFloorLinesPerCpuSecond)})`);
console.log(JSON.stringify(result));
