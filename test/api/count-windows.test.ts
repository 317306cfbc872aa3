/**
 * Count windows (Flink's countWindow): tumbling ones fire every `size` records of a key over
 * those records; sliding ones every `slide` records over the last `size` — fewer at first —
 * and a window that never fills emits nothing. Checked against the definition, with the
 * engine restored at another parallelism mid-window, and bad sizes refused.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

const COUNT = 100;
const keyOf = (i: number) => `k${(i * 7) % 3}`;

function counting(name: string, size: number, slide?: number): JobGraph {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 } });
  j.source('src', generator({ count: COUNT, batchSize: 3, make: (i) => i }), { parallelism: 1 })
    .keyBy(keyOf)
    .countWindow(size, slide)
    .process('win', (key, records, emit: (v: { key: string; records: number[] }) => void) => emit({ key, records }))
    .sink('out', collect());
  return j.build();
}

/** By definition: a key's records in order; after its n-th, when n is a multiple of slide, the last min(size, n). */
function definition(size: number, slide = size) {
  return ['k0', 'k1', 'k2'].flatMap((key) => {
    const mine = Array.from({ length: COUNT }, (_, i) => i).filter((i) => keyOf(i) === key);
    return mine.flatMap((_, n) => ((n + 1) % slide === 0 ? [{ key, records: mine.slice(Math.max(0, n + 1 - size), n + 1) }] : []));
  });
}

describe('count windows', () => {
  it.each([
    ['tumbling 5', 5, undefined],
    ['sliding 5 by 2', 5, 2],
    ['sliding 4 by 4 (tumbling)', 4, 4],
    ['sliding 6 by 1', 6, 1],
  ])('%s: fires what the definition says', async (_name, size, slide) => {
    const expected = definition(size, slide);
    expect(sorted((await evaluateSequentially(counting('count', size, slide))).sinks.get('out')!)).toEqual(sorted(expected));
  });

  it('a window that never fills emits nothing', async () => {
    const out = (await evaluateSequentially(counting('partial', 40))).sinks.get('out')!;
    expect(out).toEqual([]);
  });

  it('restored at another parallelism mid-window, the engine fires the same windows', async () => {
    const graph = counting('count-rescale', 7, 3);
    const world = await memoryWorld(graph);
    for (let i = 0; i < 10; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { win: 3 } });
    await world.runToEnd();
    expect(sorted(await world.committed('out'))).toEqual(sorted(definition(7, 3)));
  });

  it('reduce and aggregate over a window; bad sizes are refused', async () => {
    const j = job('count-fns', { parallelism: 1 });
    const keyed = j.source('src', generator({ count: 9, make: (i) => i })).keyBy(() => 'all');
    keyed.countWindow(3).reduce('sum', (a, b) => a + b).sink('sums', collect());
    keyed.countWindow(3).aggregate('avg', { create: () => ({ s: 0, n: 0 }), add: (a, v) => ({ s: a.s + v, n: a.n + 1 }), result: (a, key) => `${key}:${a.s / a.n}` }).sink('avgs', collect());
    const result = await evaluateSequentially(j.build());
    expect(result.sinks.get('sums')).toEqual([3, 12, 21]);
    expect(result.sinks.get('avgs')).toEqual(['all:1', 'all:4', 'all:7']);
    expect(() => keyed.countWindow(0)).toThrow(ConfigError);
    expect(() => keyed.countWindow(2.5)).toThrow('countWindow.size: must be a whole number from 1, got 2.5');
    expect(() => keyed.countWindow(2, 3)).toThrow('countWindow.slide: 3 exceeds the size 2');
  });
});
