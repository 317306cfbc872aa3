/**
 * The word count of examples/wordcount.ts (the shipped corpus, parallelism 2, a checkpoint
 * every second) on the memory adapters, timed in CPU: user + system time of this process
 * while the job runs, as Flink's figure for the same job on its MiniCluster is taken. Used by
 * `npm run bench` (wordcountLinesPerCpuSecond).
 */
import { readFileSync } from 'node:fs';
import { memoryPorts, provisionMemoryQueues } from '../lib/adapters/memory/index.js';
import { collect, generator, job } from '../lib/api/index.js';
import { compileTopology } from '../lib/core/topology.js';
import { systemClock } from '../lib/ports/clock.js';
import { LocalLambdaHost } from '../local/lambda-host.js';

const corpus = readFileSync(new URL('../examples/data/corpus.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim().length > 0);

export interface WordcountRun {
  readonly lines: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly linesPerCpuSecond: number;
  readonly checkpoints: number;
}

// The job's functions, shared by the job and its floor below.
const line = (i: number): string => corpus[i % corpus.length]!;
const words = (text: string): string[] => text.toLowerCase().match(/[a-z']+/g) ?? [];
const counts = { create: () => 0, add: (n: number) => n + 1, result: (n: number, word: string) => ({ word, count: n }) };

export async function runWordcount(lines: number, batchSize = 2000): Promise<WordcountRun> {
  const j = job('wordcount-bench', { parallelism: 2, checkpoints: { interval: 1000, timeout: 60_000 } });
  j.source('lines', generator({ count: lines, batchSize, make: line }))
    .flatMap('words', words)
    .keyBy((word) => word)
    .aggregate('counts', counts)
    .sink('out', collect());
  const graph = j.build();
  const ports = memoryPorts(systemClock);
  provisionMemoryQueues(ports.queue, compileTopology(graph), { maxReceiveCount: 5 });
  const host = new LocalLambdaHost(graph, ports, { heartbeatMs: 20, idleMs: 1 });
  const cpu = process.cpuUsage();
  const started = performance.now();
  await host.recovery.start();
  host.start();
  for (;;) {
    await new Promise((r) => setTimeout(r, 20));
    const s = (await ports.manifest.getJob(graph.name))?.status;
    if (s === 'FINISHED') break;
    if (s === 'FAILED') throw new Error('word count benchmark failed');
  }
  const used = process.cpuUsage(cpu);
  const wallSeconds = (performance.now() - started) / 1000;
  await host.stop();
  const cpuSeconds = (used.user + used.system) / 1e6;
  const checkpoints = (await ports.manifest.listCheckpoints(graph.name, { limit: 1000 })).filter((c) => c.status === 'COMPLETED' || c.status === 'DISCARDED').length;
  return { lines, cpuSeconds, wallSeconds, linesPerCpuSecond: lines / cpuSeconds, checkpoints };
}

/**
 * The floor of the same job in this runtime: its own functions in one loop, with no engine,
 * no exchange and no checkpoints: each line split, each word counted in a Map and its
 * result made, and the results of each batch encoded as JSON (what any sink that writes
 * them must do). Lines per CPU-second; no engine can pass it, so it bounds what
 * `linesPerCpuSecond` may reach on this machine.
 */
export function wordcountFloor(lines: number, batchSize = 2000): number {
  const cpu = process.cpuUsage();
  const state = new Map<string, number>();
  let bytes = 0;
  for (let start = 0; start < lines; start += batchSize) {
    const out: { word: string; count: number }[] = [];
    for (let i = start; i < Math.min(lines, start + batchSize); i++) {
      for (const word of words(line(i))) {
        const n = counts.add(state.get(word) ?? counts.create());
        state.set(word, n);
        out.push(counts.result(n, word));
      }
    }
    bytes += JSON.stringify(out).length;
  }
  const used = process.cpuUsage(cpu);
  if (bytes === 0) throw new Error('the floor encoded nothing');
  return lines / ((used.user + used.system) / 1e6);
}

// Run alone: `node --import tsx bench/wordcount.ts [lines]`.
if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runWordcount(Number(process.argv[2] ?? 1_000_000));
  console.log(JSON.stringify(r));
}
