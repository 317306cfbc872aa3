/**
 * The sequential reference against real engine runs on the memory adapters, for every way
 * records are routed between operators: forward (chained or not), rebalance, broadcast,
 * keyBy and union, with parallelism above 1 and changing across the edge. Each test also
 * pins the expected size by hand, so that a reference and an engine wrong in the same way
 * cannot agree unnoticed.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, tumbling } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { compileTopology } from '../../lib/core/topology.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

const N = 40;
const numbers = (count = N, batchSize = 7) => generator({ count, batchSize, make: (i) => i });
const settings = (parallelism: number) => ({ parallelism, checkpoints: { interval: 400 } });

/** Runs the job to its end; per sink, what it committed and what the reference expects. */
async function runAndEvaluate(graph: JobGraph, ...sinks: string[]) {
  const world = await memoryWorld(graph);
  await world.runToEnd();
  const evaluation = await evaluateSequentially(graph);
  const out: Record<string, { committed: unknown[]; expected: unknown[] }> = {};
  for (const sink of sinks) out[sink] = { committed: await world.committed(sink), expected: evaluation.sinks.get(sink) ?? [] };
  return out;
}

/** The stage ids of the job and how each stage's input is partitioned. */
const edges = (graph: JobGraph) =>
  compileTopology(graph).stages.map((s) => `${s.inputs.map((i) => `${i.stage}-${i.partitioning.type}->`).join(',')}${s.id}x${s.parallelism}`);

describe('the sequential reference matches the engine', () => {
  it('on a forward chain with parallelism 2', async () => {
    const j = job('pt-forward', settings(2));
    j.source('src', numbers()).map('sq', (n) => n * n).filter('even', (n) => n % 2 === 0).sink('out', collect());
    const graph = j.build();
    expect(edges(graph)).toEqual(['srcx2']); // one chain, one stage
    const { out } = await runAndEvaluate(graph, 'out');
    expect(out!.expected).toHaveLength(N / 2);
    expect(sorted(out!.committed)).toEqual(sorted(out!.expected));
  });

  it('on a forward edge where startNewChain breaks the chain', async () => {
    const j = job('pt-newchain', settings(2));
    j.source('src', numbers()).map('sq', (n) => n * n).filter('even', (n) => n % 2 === 0, { startNewChain: true }).sink('out', collect());
    const graph = j.build();
    expect(edges(graph)).toEqual(['srcx2', 'src-forward->evenx2']);
    const { out } = await runAndEvaluate(graph, 'out');
    expect(out!.expected).toHaveLength(N / 2);
    expect(sorted(out!.committed)).toEqual(sorted(out!.expected));
  });

  it('across rebalance edges that change the parallelism, and one that keeps it', async () => {
    const j = job('pt-rebalance', settings(2));
    j.source('src', numbers(), { parallelism: 1 })
      .map('tag', (n) => `n${n}`, { parallelism: 3 })
      .rebalance()
      .map('upper', (s) => s.toUpperCase(), { parallelism: 3 })
      .sink('out', collect(), { parallelism: 2 });
    const graph = j.build();
    expect(edges(graph)).toEqual(['srcx1', 'src-rebalance->tagx3', 'tag-rebalance->upperx3', 'upper-rebalance->outx2']);
    const { out } = await runAndEvaluate(graph, 'out');
    expect(out!.expected).toHaveLength(N);
    expect(sorted(out!.committed)).toEqual(sorted(out!.expected));
  });

  it('across a broadcast: every subtask of the consumer gets every record', async () => {
    const j = job('pt-broadcast', settings(2));
    j.source('src', numbers()).broadcast().map('tag', (n) => `n${n}`, { parallelism: 3 }).sink('out', collect(), { parallelism: 3 });
    const graph = j.build();
    expect(edges(graph)).toEqual(['srcx2', 'src-broadcast->tagx3']);
    const { out } = await runAndEvaluate(graph, 'out');
    expect(out!.expected).toHaveLength(3 * N);
    expect(sorted(out!.committed)).toEqual(sorted(out!.expected));
  });

  it('across a broadcast at equal parallelism, and two broadcasts in a row multiply', async () => {
    const j = job('pt-broadcast2', settings(2));
    const twice = j.source('src', numbers(), { parallelism: 1 }).broadcast().map('tag', (n) => `n${n}`);
    twice.sink('direct', collect());
    twice.broadcast().sink('again', collect(), { parallelism: 3 });
    const graph = j.build();
    expect(edges(graph)).toEqual(['srcx1', 'src-broadcast->tagx2', 'tag-forward->directx2', 'tag-broadcast->againx3']);
    const { direct, again } = await runAndEvaluate(graph, 'direct', 'again');
    expect(direct!.expected).toHaveLength(2 * N);
    expect(again!.expected).toHaveLength(6 * N);
    expect(sorted(direct!.committed)).toEqual(sorted(direct!.expected));
    expect(sorted(again!.committed)).toEqual(sorted(again!.expected));
  });

  it('across a broadcast into a keyed count: each copy is counted', async () => {
    const j = job('pt-broadcast-keyed', settings(2));
    j.source('src', numbers(), { parallelism: 1 })
      .broadcast()
      .map('key', (n) => `k${n % 4}`)
      .keyBy((k) => k)
      .aggregate('count', { create: () => 0, add: (c: number) => c + 1, result: (c, k) => ({ k, c }) }, { parallelism: 3 })
      .sink('out', collect());
    const { out } = await runAndEvaluate(j.build(), 'out');
    // N/4 records per key, twice each: every key counts up to N/2.
    const finals = new Map<string, number>();
    for (const r of out!.expected as { k: string; c: number }[]) finals.set(r.k, Math.max(finals.get(r.k) ?? 0, r.c));
    expect(Object.fromEntries(finals)).toEqual({ k0: N / 2, k1: N / 2, k2: N / 2, k3: N / 2 });
    expect(sorted(out!.committed)).toEqual(sorted(out!.expected));
  });

  it('across keyBy from 2 to 3 subtasks into a rolling count, then to 1', async () => {
    const j = job('pt-keyby', settings(2));
    j.source('src', numbers())
      .keyBy((n) => n % 5)
      .aggregate('count', { create: () => 0, add: (c: number) => c + 1, result: (c, k) => ({ k, c }) }, { parallelism: 3 })
      .sink('out', collect(), { parallelism: 1 });
    const graph = j.build();
    expect(edges(graph)).toEqual(['srcx2', 'src-hash->countx3', 'count-rebalance->outx1']);
    const { out } = await runAndEvaluate(graph, 'out');
    expect(out!.expected).toHaveLength(N);
    expect(sorted(out!.committed)).toEqual(sorted(out!.expected));
  });

  it('over a union of sources of different parallelism, keyed and broadcast after it', async () => {
    const j = job('pt-union', settings(2));
    const a = j.source('a', numbers(N, 5), { parallelism: 1 });
    const b = j.source('b', generator({ count: N / 2, batchSize: 3, make: (i) => 1000 + i }));
    const both = a.union(b);
    both.keyBy((n) => n % 3).aggregate('count', { create: () => 0, add: (c: number) => c + 1, result: (c, k) => ({ k, c }) }, { parallelism: 3 }).sink('counts', collect());
    both.broadcast().sink('copies', collect(), { parallelism: 3 });
    const graph = j.build();
    expect(edges(graph)).toEqual(['ax1', 'bx2', 'a-hash->,b-hash->countx3', 'count-rebalance->countsx2', 'a-broadcast->,b-broadcast->copiesx3']);
    const { counts, copies } = await runAndEvaluate(graph, 'counts', 'copies');
    expect(counts!.expected).toHaveLength(N + N / 2);
    expect(copies!.expected).toHaveLength(3 * (N + N / 2));
    expect(sorted(counts!.committed)).toEqual(sorted(counts!.expected));
    expect(sorted(copies!.committed)).toEqual(sorted(copies!.expected));
  });

  it('for event-time windows behind a broadcast and a change of parallelism', async () => {
    const j = job('pt-windows', settings(2));
    j.source('src', generator({ count: N, batchSize: 6, make: (i) => i, timestamp: (i) => i * 100 }), { parallelism: 1, watermarks: { outOfOrderness: 50 } })
      .broadcast()
      .map('key', (n) => ({ k: n % 2, n }))
      .keyBy((e) => e.k)
      .window(tumbling(1000))
      .aggregate('count', { create: () => 0, add: (c: number) => c + 1, result: (c, k, w) => ({ k, start: w.start, c }) }, { parallelism: 3 })
      .sink('out', collect(), { parallelism: 1 });
    const { out } = await runAndEvaluate(j.build(), 'out');
    // 10 records a window, 5 a key, received by both subtasks of `key`.
    expect(out!.expected).toHaveLength((N / 10) * 2);
    expect((out!.expected as { c: number }[]).every((r) => r.c === 10)).toBe(true);
    expect(sorted(out!.committed)).toEqual(sorted(out!.expected));
  });

  it("for a window's late records broadcast to 2 subtasks", async () => {
    // Every 10th record is 2 s behind; with one source subtask the lateness is exact.
    const ts = (i: number) => 10_000 + (i % 10 === 9 ? i * 100 - 2000 : i * 100);
    const j = job('pt-late', settings(2));
    const counts = j
      .source('src', generator({ count: N, batchSize: 5, make: (i) => i, timestamp: ts }), { parallelism: 1, watermarks: { outOfOrderness: 100 } })
      .keyBy((n) => n % 2)
      .window(tumbling(500), { late: 'side-output' })
      .aggregate('count', { create: () => 0, add: (c: number) => c + 1, result: (c, k, w) => ({ k, start: w.start, c }) });
    counts.sink('out', collect(), { parallelism: 1 });
    counts.lateRecords().broadcast().sink('late', collect());
    const { out, late } = await runAndEvaluate(j.build(), 'out', 'late');
    expect(late!.expected).toHaveLength(2 * (N / 10));
    expect(sorted(late!.committed)).toEqual(sorted(late!.expected));
    expect(sorted(out!.committed)).toEqual(sorted(out!.expected));
  });
});
