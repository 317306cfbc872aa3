/**
 * Contracts of the log store and the output table (DESIGN §8): the DynamoDB log source's
 * gap-free, immutable offsets, and the DynamoDB sink's checkpoint guard. Run against the
 * memory adapters and the DynamoDB adapters on the emulator.
 */
import { expect, it } from 'vitest';
import type { LogStore } from '../../lib/ports/log-store.js';
import type { OutputTable } from '../../lib/ports/output-table.js';

let unique = 0;
const fresh = (prefix: string) => `${prefix}${Date.now().toString(36)}${++unique}`;
const range = (from: number, below: number) => Array.from({ length: below - from }, (_, i) => from + i);
/** Values big enough that a few of them pass DynamoDB's 1 MB page, so reads must page. */
const bulky = (n: number) => `${n}:${'x'.repeat(100_000)}`;

export function logStoreContract(setup: () => Promise<LogStore>): void {
  it('the head of an empty partition is 0; appends take the next offsets, in order', async () => {
    const logs = await setup();
    const job = fresh('j');
    expect(await logs.head(job, 'events', 0)).toBe(0);
    expect(await logs.read(job, 'events', 0, 0, 10, 10)).toEqual([]);
    expect(await logs.append(job, 'events', 0, ['a', 'b', 'c'])).toEqual([0, 1, 2]);
    expect(await logs.append(job, 'events', 0, [])).toEqual([]);
    expect(await logs.append(job, 'events', 0, ['d'])).toEqual([3]);
    expect(await logs.head(job, 'events', 0)).toBe(4);
    // values come back exactly as written, whatever they hold
    const odd = ['', '{"k":"ü","n":1}', '😀 \u0000 tab\tand\nnewline'];
    expect(await logs.append(job, 'events', 0, odd)).toEqual([4, 5, 6]);
    expect(await logs.read(job, 'events', 0, 4, 7, 10)).toEqual(odd.map((value, i) => ({ offset: 4 + i, value })));
  });

  it('concurrent appenders get contiguous offsets, each exactly once, each its own in order', async () => {
    const logs = await setup();
    const job = fresh('j');
    const appender = async (name: string) => {
      const values = range(0, 20).map((i) => `${name}${i}`);
      const offsets: number[] = [];
      // Calls of different sizes, so that the appenders' calls interleave.
      for (const [from, below] of [[0, 1], [1, 4], [4, 11], [11, 20]] as const) {
        offsets.push(...(await logs.append(job, 'events', 0, values.slice(from, below))));
      }
      return { values, offsets };
    };
    const results = await Promise.all(['a', 'b', 'c'].map(appender));
    const all = results.flatMap((r) => r.offsets);
    expect([...all].sort((x, y) => x - y)).toEqual(range(0, 60));
    for (const r of results) expect(r.offsets).toEqual([...r.offsets].sort((x, y) => x - y));
    expect(await logs.head(job, 'events', 0)).toBe(60);
    const read = await logs.read(job, 'events', 0, 0, 60, 100);
    const written = new Map(results.flatMap((r) => r.offsets.map((o, i) => [o, r.values[i]!] as const)));
    expect(read).toEqual(range(0, 60).map((offset) => ({ offset, value: written.get(offset) })));
  });

  it('reads honour from, below and max', async () => {
    const logs = await setup();
    const job = fresh('j');
    await logs.append(job, 'events', 0, range(0, 10).map(String));
    const offsets = async (from: number, below: number, max: number) =>
      (await logs.read(job, 'events', 0, from, below, max)).map((e) => e.offset);
    expect(await offsets(2, 7, 100)).toEqual([2, 3, 4, 5, 6]);
    expect(await offsets(2, 7, 3)).toEqual([2, 3, 4]);
    expect(await offsets(8, 100, 100)).toEqual([8, 9]);
    expect(await offsets(0, Infinity, 4)).toEqual([0, 1, 2, 3]);
    expect(await offsets(5, 5, 10)).toEqual([]);
    expect(await offsets(6, 5, 10)).toEqual([]);
    expect(await offsets(0, 10, 0)).toEqual([]);
    expect(await offsets(10, 20, 5)).toEqual([]);
    expect((await logs.read(job, 'events', 0, 9, 10, 1))[0]).toEqual({ offset: 9, value: '9' });
  });

  it('reads more than one page', async () => {
    const logs = await setup();
    const job = fresh('j');
    await logs.append(job, 'big', 0, range(0, 14).map(bulky));
    expect((await logs.read(job, 'big', 0, 0, 14, 100)).map((e) => e.value)).toEqual(range(0, 14).map(bulky));
    expect((await logs.read(job, 'big', 0, 1, 14, 12)).map((e) => e.offset)).toEqual(range(1, 13));
  });

  it('partitions, logs and jobs are independent', async () => {
    const logs = await setup();
    const [j1, j2] = [fresh('j'), fresh('j')];
    expect(await logs.append(j1, 'events', 0, ['p0'])).toEqual([0]);
    expect(await logs.append(j1, 'events', 1, ['p1a', 'p1b'])).toEqual([0, 1]);
    expect(await logs.append(j1, 'other', 0, ['o'])).toEqual([0]);
    expect(await logs.append(j2, 'events', 0, ['j2'])).toEqual([0]);
    // a partition number that is a prefix of another's (1 and 10) is still its own
    expect(await logs.append(j1, 'events', 10, ['p10'])).toEqual([0]);
    expect(await logs.head(j1, 'events', 0)).toBe(1);
    expect(await logs.head(j1, 'events', 1)).toBe(2);
    expect(await logs.head(j1, 'events', 2)).toBe(0);
    expect((await logs.read(j1, 'events', 1, 0, 10, 10)).map((e) => e.value)).toEqual(['p1a', 'p1b']);
    expect((await logs.read(j1, 'other', 0, 0, 10, 10)).map((e) => e.value)).toEqual(['o']);
    expect((await logs.read(j2, 'events', 0, 0, 10, 10)).map((e) => e.value)).toEqual(['j2']);
  });
}

export function outputTableContract(setup: () => Promise<OutputTable>): void {
  it('refuses an older checkpoint, accepts the same or a newer one; the last write of a checkpoint wins', async () => {
    const out = await setup();
    const job = fresh('j');
    expect(await out.get(job, 'counts', 'k')).toBeNull();
    expect(await out.upsert(job, 'counts', 'k', 'v5', 5)).toBe(true);
    expect(await out.get(job, 'counts', 'k')).toEqual({ key: 'k', value: 'v5', checkpoint: 5 });
    expect(await out.upsert(job, 'counts', 'k', 'v4', 4)).toBe(false);
    expect(await out.get(job, 'counts', 'k')).toEqual({ key: 'k', value: 'v5', checkpoint: 5 });
    expect(await out.upsert(job, 'counts', 'k', 'v5 again', 5)).toBe(true);
    expect(await out.get(job, 'counts', 'k')).toEqual({ key: 'k', value: 'v5 again', checkpoint: 5 });
    expect(await out.upsert(job, 'counts', 'k', 'v12', 12)).toBe(true);
    expect(await out.upsert(job, 'counts', 'k', 'v9', 9)).toBe(false);
    expect(await out.get(job, 'counts', 'k')).toEqual({ key: 'k', value: 'v12', checkpoint: 12 });
  });

  it('racing upserts of one key leave the newest checkpoint', async () => {
    const out = await setup();
    const job = fresh('j');
    const order = [3, 6, 1, 5, 2, 4];
    const results = await Promise.all(order.map((cp) => out.upsert(job, 'counts', 'k', `v${cp}`, cp)));
    expect(results[order.indexOf(6)]).toBe(true);
    expect(await out.get(job, 'counts', 'k')).toEqual({ key: 'k', value: 'v6', checkpoint: 6 });
  });

  it('scans every key of a sink in key order (code point order, as DynamoDB sorts UTF-8)', async () => {
    const out = await setup();
    const job = fresh('j');
    // U+FF61 sorts before U+1F600 by code point, after it by UTF-16 code unit.
    const keys = ['b', 'a', '😀', 'a#1', 'B', '\uff61', '10', '9', 'é'];
    for (const [i, key] of keys.entries()) await out.upsert(job, 'counts', key, `v${i}`, 1);
    expect((await out.scan(job, 'counts')).map((r) => r.key)).toEqual(['10', '9', 'B', 'a', 'a#1', 'b', 'é', '\uff61', '😀']);
    expect((await out.scan(job, 'counts')).find((r) => r.key === '😀')).toEqual({ key: '😀', value: 'v2', checkpoint: 1 });
    expect(await out.scan(job, 'empty')).toEqual([]);
  });

  it('scans more than one page', async () => {
    const out = await setup();
    const job = fresh('j');
    const keys = range(0, 14).map((i) => `k${String(i).padStart(2, '0')}`);
    for (const [i, key] of keys.entries()) await out.upsert(job, 'big', key, bulky(i), 1);
    const rows = await out.scan(job, 'big');
    expect(rows.map((r) => r.key)).toEqual(keys);
    expect(rows.map((r) => r.value)).toEqual(range(0, 14).map(bulky));
  });

  it('sinks and jobs are independent', async () => {
    const out = await setup();
    const [j1, j2] = [fresh('j'), fresh('j')];
    expect(await out.upsert(j1, 'a', 'k', 'a9', 9)).toBe(true);
    expect(await out.upsert(j1, 'b', 'k', 'b1', 1)).toBe(true);
    expect(await out.upsert(j2, 'a', 'k', 'j2', 1)).toBe(true);
    expect(await out.upsert(j1, 'ab', 'k', 'ab', 1)).toBe(true);
    expect(await out.get(j1, 'a', 'k')).toEqual({ key: 'k', value: 'a9', checkpoint: 9 });
    expect(await out.scan(j1, 'b')).toEqual([{ key: 'k', value: 'b1', checkpoint: 1 }]);
    expect(await out.scan(j2, 'a')).toEqual([{ key: 'k', value: 'j2', checkpoint: 1 }]);
    expect(await out.get(j2, 'b', 'k')).toBeNull();
  });
}
