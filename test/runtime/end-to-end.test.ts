import { describe, expect, it } from 'vitest';
import { collect, generator, job, mapState, valueState } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

const words = ['alpha', 'beta', 'gamma', 'delta', 'alpha', 'beta', 'alpha'];

function wordcount(options: { interval?: number | null; retained?: number } = {}) {
  const j = job('wc', { parallelism: 2, checkpoints: { interval: options.interval === undefined ? 1000 : options.interval, retained: options.retained ?? 1 } });
  j.source('lines', generator({ count: 300, seed: 3, batchSize: 25, make: (i, r) => `${words[i % words.length]} ${words[Math.floor(r() * words.length)]}` }))
    .flatMap('split', (line) => line.split(' '))
    .keyBy((w) => w)
    .aggregate('count', { create: () => 0, add: (n: number) => n + 1, result: (n, word) => ({ word, n }) }, { parallelism: 3 })
    .sink('out', collect());
  return j.build();
}

describe('a job on the memory adapters', () => {
  it('runs to the end and commits exactly the sequential result', async () => {
    const graph = wordcount();
    const world = await memoryWorld(graph);
    await world.runToEnd();
    const expected = (await evaluateSequentially(graph)).sinks.get('out')!;
    expect(expected).toHaveLength(600);
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected));
    const cps = await world.memory.manifest.listCheckpoints(graph.name);
    expect(cps[0]!.status).toBe('COMPLETED');
    expect((await world.job())!.status).toBe('FINISHED');
  });

  it('with periodic checkpoints off still commits everything through the final checkpoint', async () => {
    const graph = wordcount({ interval: null });
    const world = await memoryWorld(graph);
    await world.runToEnd();
    expect(await world.committed('out')).toHaveLength(600);
    const cps = await world.memory.manifest.listCheckpoints(graph.name);
    expect(cps.filter((c) => c.status === 'COMPLETED')).toHaveLength(1);
  });

  it('shows readers only committed output: nothing before the first checkpoint completes', async () => {
    const graph = wordcount({ interval: 60_000 });
    const world = await memoryWorld(graph);
    for (let i = 0; i < 5; i++) await world.round({ advanceMs: 10 });
    expect(world.memory.blobs.bytesUnder(`jobs/wc/sinks/out/staged/`)).toBeGreaterThan(0);
    expect(await world.committed('out')).toEqual([]);
  });

  it('keyed process functions keep ValueState and MapState per key', async () => {
    const j = job('proc', { parallelism: 2, checkpoints: { interval: 500 } });
    // One source subtask: each key's records arrive in one order, so intermediate results are exact.
    j.source('src', generator({ count: 200, batchSize: 7, make: (i) => ({ user: `u${i % 5}`, page: `p${i % 3}` }) }), { parallelism: 1 })
      .keyBy((e) => e.user)
      .process('visits', {
        state: { total: valueState<number>(), pages: mapState<string, number>() },
        processElement(e, ctx) {
          const total = (ctx.state.total.value() ?? 0) + 1;
          ctx.state.total.update(total);
          ctx.state.pages.put(e.page, (ctx.state.pages.get(e.page) ?? 0) + 1);
          if (total % 10 === 0) ctx.emit({ user: ctx.key, total, pages: Object.fromEntries(ctx.state.pages.entries()) });
        },
      })
      .sink('out', collect());
    const graph = j.build();
    const world = await memoryWorld(graph);
    await world.runToEnd();
    const expected = (await evaluateSequentially(graph)).sinks.get('out')!;
    expect(expected).toHaveLength(20);
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected));
  });

  it('retention keeps `retained` completed checkpoints and deletes the snapshots of the rest', async () => {
    const graph = wordcount({ interval: 200, retained: 2 });
    const world = await memoryWorld(graph);
    await world.runToEnd();
    const completed = (await world.memory.manifest.listCheckpoints(graph.name)).filter((c) => c.status === 'COMPLETED');
    expect(completed.length).toBeLessThanOrEqual(3);
    const kept = new Set(completed.map((c) => c.id));
    const prefixes = (await world.memory.blobs.list('jobs/wc/checkpoints/')).map((k) => Number(k.split('/')[3]));
    expect([...new Set(prefixes)].every((id) => kept.has(id as never))).toBe(true);
  });
});
