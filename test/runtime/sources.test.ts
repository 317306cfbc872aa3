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

describe('S3 source', () => {
  it('reads NDJSON objects line by line and dead-letters bad lines with their object and line', async () => {
    const { s3Source, collect, job } = await import('../../lib/api/index.js');
    const j = job('files', { checkpoints: { interval: 500 } });
    j.source('src', s3Source<{ n: number; t: number }>({ prefix: 'in/', batchSize: 2, timestamp: (r) => r.t }))
      .map('n', (r) => r.n)
      .sink('out', collect());
    const world = await memoryWorld(j.build(), {
      prepare: async (memory) => {
        await memory.blobs.put('jobs/files/in/1.ndjson', '{"n":1,"t":1}\n{"n":2,"t":2}\nnot json\n');
        await memory.blobs.put('jobs/files/in/2.ndjson', '{"n":3}\n{"n":4,"t":4}');
      },
    });
    await world.runToEnd();
    expect((await world.committed<number>('out')).sort()).toEqual([1, 2, 4]);
    const dead = await world.memory.blobs.list('jobs/files/dead-letters/src/');
    const bodies = await Promise.all(dead.map(async (k) => JSON.parse((await world.memory.blobs.get(k))!) as { where: string; reason: string }));
    expect(bodies.map((b) => [b.where, b.reason.split(':')[0]]).sort()).toEqual([
      ['in/1.ndjson:3', 'not JSON'],
      ['in/2.ndjson:1', 'no timestamp'],
    ]);
  });

  it('reads Parquet files row by row, as the evaluation does, and dead-letters an object that is not Parquet whole', async () => {
    const { s3Source, collect, job } = await import('../../lib/api/index.js');
    const { evaluateSequentially } = await import('../../lib/api/evaluate.js');
    const { parquetWriteBuffer } = await import('hyparquet-writer');
    const j = job('parquet-in', { parallelism: 2, checkpoints: { interval: 500 } });
    j.source('src', s3Source<{ n: number; word: string }>({ format: 'parquet', prefix: 'in/', batchSize: 3, timestamp: (r) => r.n }))
      .map('n', (r) => `${r.word}:${r.n}`)
      .sink('out', collect());
    const file = (from: number) =>
      new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'n', data: [from, from + 1, from + 2, from + 3], type: 'INT32' }, { name: 'word', data: ['a', 'b', 'c', 'd'].map((w) => w + from), type: 'STRING' }] }));
    const prepare = async (memory: { blobs: { put(k: string, b: string | Uint8Array): Promise<boolean> } }) => {
      await memory.blobs.put('jobs/parquet-in/in/1.parquet', file(0));
      await memory.blobs.put('jobs/parquet-in/in/2.parquet', 'this is not parquet');
      await memory.blobs.put('jobs/parquet-in/in/3.parquet', file(10));
    };
    const world = await memoryWorld(j.build(), { prepare });
    await world.runToEnd();
    const expected = [0, 1, 2, 3].map((i) => `${'abcd'[i]}0:${i}`).concat([0, 1, 2, 3].map((i) => `${'abcd'[i]}10:${10 + i}`));
    expect((await world.committed<string>('out')).sort()).toEqual(expected.sort());
    const { sourceIo } = await import('../../lib/runtime/source-io.js');
    expect(((await evaluateSequentially(world.graph, sourceIo(world.memory, world.graph.name))).sinks.get('out') as string[]).sort()).toEqual(expected.sort());
    const dead = await world.memory.blobs.list('jobs/parquet-in/dead-letters/src/');
    const bodies = await Promise.all(dead.map(async (k) => JSON.parse((await world.memory.blobs.get(k))!) as { where: string; reason: string }));
    expect(bodies.map((b) => [b.where, b.reason.split(':')[0]])).toEqual([['in/2.parquet', 'not a Parquet file']]);
  });
});
