/** The ingest API on the memory log store: routing, order, batching, and all-or-nothing validation. */
import { describe, expect, it } from 'vitest';
import { MemoryLogStore } from '../../lib/adapters/memory/memory-log-store.js';
import { InvalidInputError } from '../../lib/core/errors.js';
import { encodeKey, murmur3 } from '../../lib/core/keygroups.js';
import type { LogStore } from '../../lib/ports/log-store.js';
import { ingest, INGEST_BATCH } from '../../lib/runtime/ingest.js';

let unique = 0;
const fresh = (prefix: string) => `${prefix}${++unique}`;

/** Every record of a partition, decoded. */
async function contents(logs: LogStore, job: string, log: string, partition: number): Promise<unknown[]> {
  return (await logs.read(job, log, partition, 0, Infinity, Infinity)).map((e) => JSON.parse(e.value) as unknown);
}

describe('ingest', () => {
  it('sends each key to murmur3(encodeKey(key)) % partitions, in order per partition', async () => {
    const logs = new MemoryLogStore();
    const job = fresh('j');
    const records = Array.from({ length: 40 }, (_, n) => ({ user: `u${n % 7}`, n }));
    const result = await ingest(logs, job, 'clicks', 4, records, (r) => r.user);
    const expected = [0, 1, 2, 3].map((p) => records.filter((r) => murmur3(encodeKey(r.user)) % 4 === p));
    expect(result).toEqual({ appended: 40, perPartition: expected.map((e) => e.length) });
    for (const p of [0, 1, 2, 3]) expect(await contents(logs, job, 'clicks', p)).toEqual(expected[p]);
    // one key, one partition
    const partitionsOfU3 = new Set<number>();
    for (const p of [0, 1, 2, 3]) if (expected[p]!.some((r) => r.user === 'u3')) partitionsOfU3.add(p);
    expect(partitionsOfU3.size).toBe(1);
  });

  it('numbers and strings are different keys, as in keyed state', async () => {
    const logs = new MemoryLogStore();
    const job = fresh('j');
    await ingest(logs, job, 'l', 16, [{ k: 1 }, { k: '1' }], (r) => r.k);
    expect(await contents(logs, job, 'l', murmur3(encodeKey(1)) % 16)).toContainEqual({ k: 1 });
    expect(await contents(logs, job, 'l', murmur3(encodeKey('1')) % 16)).toContainEqual({ k: '1' });
  });

  it('deals unkeyed records round-robin from the start partition', async () => {
    const logs = new MemoryLogStore();
    const job = fresh('j');
    expect(await ingest(logs, job, 'l', 3, ['r0', 'r1', 'r2', 'r3', 'r4', 'r5', 'r6'], undefined, 0)).toEqual({ appended: 7, perPartition: [3, 2, 2] });
    expect(await contents(logs, job, 'l', 0)).toEqual(['r0', 'r3', 'r6']);
    expect(await contents(logs, job, 'l', 1)).toEqual(['r1', 'r4']);
    expect(await ingest(logs, job, 'l', 3, ['s0'], undefined, 1)).toEqual({ appended: 1, perPartition: [0, 1, 0] });
    // without a start partition, a run of one-record calls spreads over the partitions
    const spread = new Set<number>();
    for (let i = 0; i < 40; i++) spread.add((await ingest(logs, job, 'm', 3, ['x'])).perPartition.indexOf(1));
    expect(spread.size).toBe(3);
  });

  it('appends in batches, keeping the order', async () => {
    const logs = new MemoryLogStore();
    const job = fresh('j');
    const records = Array.from({ length: 2 * INGEST_BATCH + 50 }, (_, n) => ({ n }));
    expect(await ingest(logs, job, 'l', 1, records)).toEqual({ appended: records.length, perPartition: [records.length] });
    expect(logs.requests.append).toBe(3);
    expect(await contents(logs, job, 'l', 0)).toEqual(records);
  });

  it('writes nothing when a record cannot be encoded or keyed', async () => {
    const logs = new MemoryLogStore();
    const job = fresh('j');
    await expect(ingest(logs, job, 'l', 2, [1, 2, undefined, 4])).rejects.toThrow(/record 2 cannot be JSON-encoded/);
    await expect(ingest(logs, job, 'l', 2, [1, 2n])).rejects.toThrow(/record 1 cannot be JSON-encoded/);
    await expect(ingest(logs, job, 'l', 2, [{ k: 'a' }, { k: Number.NaN }], (r) => r.k)).rejects.toThrow(/record 1: a key must be/);
    await expect(ingest(logs, job, 'l', 0, [1])).rejects.toBeInstanceOf(InvalidInputError);
    expect(logs.requests.append).toBe(0);
    expect(await ingest(logs, job, 'l', 2, [])).toEqual({ appended: 0, perPartition: [0, 0] });
    expect(logs.requests.append).toBe(0);
  });

  it('throws only once no append of the call is still running; a failed partition holds a prefix', async () => {
    const memory = new MemoryLogStore();
    const job = fresh('j');
    let running = 0;
    const flaky: LogStore = {
      head: (...a) => memory.head(...a),
      read: (...a) => memory.read(...a),
      async append(j, l, partition, values) {
        running++;
        try {
          await new Promise((resolve) => setTimeout(resolve, partition === 0 ? 5 : 1));
          if (partition === 1 && (await memory.head(j, l, 1)) >= INGEST_BATCH) throw new Error('partition 1 is down');
          return await memory.append(j, l, partition, values);
        } finally {
          running--;
        }
      },
    };
    const records = Array.from({ length: 6 * INGEST_BATCH }, (_, n) => n);
    await expect(ingest(flaky, job, 'l', 2, records, undefined, 0)).rejects.toThrow('partition 1 is down');
    expect(running).toBe(0);
    expect(await memory.head(job, 'l', 0)).toBe(3 * INGEST_BATCH);
    expect(await contents(memory, job, 'l', 1)).toEqual(records.filter((n) => n % 2 === 1).slice(0, INGEST_BATCH));
  });
});
