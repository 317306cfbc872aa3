/**
 * The S3 sink's CSV and Parquet formats: what a committed object holds (a header and RFC 4180
 * quoting; a Parquet file any reader opens, checked with hyparquet directly), the records read
 * back with their declared columns and types, exactly once across a restore; a record that
 * does not fit the columns is the sink's user error where it arrives; bad options refused.
 */
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { generator, job, s3Sink } from '../../lib/api/index.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { readSinkOutput } from '../../lib/runtime/sink-reader.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Row {
  readonly word: string;
  readonly count: number;
  readonly ratio: number;
  readonly odd: boolean;
  readonly meta: { readonly i: number } | null;
  readonly dropped?: string;
}

const row = (i: number): Row => ({ word: i % 7 === 0 ? `say "hi", then\nbye ${i}` : `w${i}`, count: i, ratio: i / 4, odd: i % 2 === 1, meta: i % 3 === 0 ? null : { i }, dropped: 'not a column' });
const columns = { word: 'string', count: 'int', ratio: 'double', odd: 'boolean', meta: 'json' } as const;

function writing(name: string, format: 'csv' | 'parquet', count = 60, make: (i: number) => unknown = row): JobGraph {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 } });
  j.source('src', generator({ count, batchSize: 4, make: (i) => make(i) as Row }), { parallelism: 1 }).rebalance().sink('out', s3Sink<Row>({ prefix: 'output/', format, columns }));
  return j.build();
}

const expected = (count: number) => Array.from({ length: count }, (_, i) => {
  const { dropped: _dropped, ...kept } = row(i);
  return kept;
});

describe('S3 sink formats', () => {
  it('CSV: one object per transaction with a header, quoted where RFC 4180 says; read back typed, exactly once across a restore', async () => {
    const world = await memoryWorld(writing('csv-out', 'csv', 120));
    for (let i = 0; i < 10; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { out: 3 } });
    await world.runToEnd();
    const keys = await world.memory.blobs.list('jobs/csv-out/output/');
    expect(keys.length).toBeGreaterThan(1);
    expect(keys.every((k) => k.endsWith('.csv'))).toBe(true);
    const bodies = await Promise.all(keys.map((k) => world.memory.blobs.get(k)));
    expect(bodies.every((b) => b!.startsWith('word,count,ratio,odd,meta\n'))).toBe(true);
    expect(bodies.join('')).toContain('"say ""hi"", then\nbye 0",0,0,false,\n');
    expect(sorted((await readSinkOutput(world.memory, world.graph, 'out'))!)).toEqual(sorted(expected(120)));
  });

  it('Parquet: a file hyparquet reads as the records, their declared columns and types', async () => {
    const world = await memoryWorld(writing('parquet-out', 'parquet'));
    await world.runToEnd();
    const keys = await world.memory.blobs.list('jobs/parquet-out/output/');
    expect(keys.every((k) => k.endsWith('.parquet'))).toBe(true);
    const rows: unknown[] = [];
    for (const key of keys) {
      const bytes = (await world.memory.blobs.getBytes(key))!;
      expect(new TextDecoder().decode(bytes.slice(0, 4))).toBe('PAR1');
      rows.push(...(await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer })));
    }
    expect(sorted(rows)).toEqual(sorted(expected(60)));
    expect(sorted((await readSinkOutput(world.memory, world.graph, 'out'))!)).toEqual(sorted(expected(60)));
  });

  it('a record that does not fit the columns is the sink\'s user error, named, where it arrives', async () => {
    const bad = (i: number) => (i === 5 ? { ...row(i), count: 'five' } : row(i));
    const world = await memoryWorld(writing('misfit', 'parquet', 10, bad));
    await expect(world.runToEnd()).rejects.toThrow('field count is "five", not a 32-bit int');
  });

  it('refuses a format it does not know, columns missing or of an unknown type, and columns with NDJSON', () => {
    expect(() => s3Sink({ prefix: 'o/', format: 'avro' as never, columns: { a: 'string' } })).toThrow(ConfigError);
    expect(() => s3Sink({ prefix: 'o/', format: 'csv' })).toThrow("s3Sink.columns: a csv sink needs its columns");
    expect(() => s3Sink<{ a: number }>({ prefix: 'o/', format: 'parquet', columns: { a: 'long' as never } })).toThrow('s3Sink.columns.a: must be one of string, int, double, boolean, json');
    expect(() => s3Sink<{ a: number }>({ prefix: 'o/', columns: { a: 'int' } })).toThrow("s3Sink.columns: are for format 'csv' or 'parquet'");
  });
});
