import { describe, expect, it } from 'vitest';
import { collect, generator, job } from '../../lib/api/index.js';
import { memoryWorld } from '../support/memory-world.js';

describe('generator source', () => {
  it('is deterministic per global index, however many subtasks read it', async () => {
    const make = (i: number, random: () => number) => ({ i, r: Math.floor(random() * 1e6) });
    const read = (parallelism: number) => {
      const src = generator({ count: 50, seed: 9, make });
      const out: { i: number; r: number }[] = [];
      for (let s = 0; s < parallelism; s++) out.push(...(src.reader.read(s, parallelism, 0, 1000, undefined as never, undefined) as { values: { i: number; r: number }[] }).values);
      return out.sort((a, b) => a.i - b.i);
    };
    expect(read(1)).toEqual(read(3));
    expect(read(2)).toHaveLength(50);
  });

  it('reports end of input exactly when the last record is read, and replays from an offset', () => {
    const src = generator({ count: 10, make: (i) => i }).reader;
    expect(src.read(0, 2, 0, 3, undefined as never, undefined)).toEqual({ values: [0, 2, 4], next: 3, finished: false });
    expect(src.read(0, 2, 3, 3, undefined as never, undefined)).toEqual({ values: [6, 8], next: 5, finished: true });
    expect(src.read(0, 2, 3, 3, undefined as never, undefined)).toEqual(src.read(0, 2, 3, 3, undefined as never, undefined));
  });

  it('emits at most `rate` records per second of (manual) time', async () => {
    const j = job('rated', { checkpoints: { interval: null } });
    j.source('src', generator({ count: 10_000, rate: 50, batchSize: 1000, make: (i) => i })).sink('out', collect());
    const world = await memoryWorld(j.build());
    for (let i = 0; i < 40; i++) await world.round({ advanceMs: 50 }); // 2 s
    const emitted = world.runtime.stats.sourceRecords;
    expect(emitted).toBeGreaterThanOrEqual(95);
    expect(emitted).toBeLessThanOrEqual(105);
  });
});
