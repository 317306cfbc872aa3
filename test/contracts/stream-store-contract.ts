/**
 * Contract of a stream store (ports/stream-store.ts): what the Kinesis source relies on for
 * replay — a read after a sequence number gives the same records whatever is put later, in
 * order, with arrival times; shards listed by id. Run against the memory adapter and the
 * Kinesis adapter on the emulator. Resharding is in the memory adapter's own tests: the
 * emulator's Kinesis deletes the parents of a split or merge, records and all.
 */
import { expect, it } from 'vitest';
import { compareSeq } from '../../lib/core/kinesis-shards.js';
import type { StreamStore } from '../../lib/ports/stream-store.js';

let unique = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}${++unique}`;

/** Every record of a shard, read `page` at a time. */
async function readAll(store: StreamStore, stream: string, shard: string, page: number) {
  const all: { seq: string; data: string }[] = [];
  let after: string | null = null;
  for (let i = 0; i < 1000; i++) {
    const { records } = await store.readShard(stream, shard, after, page);
    if (records.length === 0) return all;
    all.push(...records.map((r) => ({ seq: r.seq, data: r.data })));
    after = records[records.length - 1]!.seq;
  }
  throw new Error('a shard that never ends');
}

export function streamStoreContract(setup: () => Promise<StreamStore>): void {
  it('a new stream has its shards, open, parentless, by id; creating it again changes nothing', async () => {
    const store = await setup();
    const stream = fresh('s');
    await store.ensureStream(stream, 3);
    await store.ensureStream(stream, 3);
    const shards = await store.listShards(stream);
    expect(shards).toHaveLength(3);
    expect(shards.map((s) => s.id)).toEqual([...shards.map((s) => s.id)].sort());
    for (const s of shards) expect(s).toMatchObject({ parents: [], closed: false });
  });

  it('records come back once each, in sequence order per shard, as put, with their key and arrival', async () => {
    const store = await setup();
    const stream = fresh('s');
    await store.ensureStream(stream, 2);
    const put = Array.from({ length: 40 }, (_, i) => ({ partitionKey: `k${i % 7}`, data: i === 3 ? '{"ü":"😀"}' : `r${i}` }));
    const seqs = await store.put(stream, put);
    expect(new Set(seqs).size).toBe(40);
    const shards = await store.listShards(stream);
    const read = (await Promise.all(shards.map((s) => readAll(store, stream, s.id, 7)))).map((records) => records);
    for (const records of read) {
      const order = records.map((r) => r.seq);
      expect(order).toEqual([...order].sort(compareSeq));
    }
    expect(read.flat().map((r) => r.data).sort()).toEqual(put.map((p) => p.data).sort());
    // One partition key, one shard: its records in the order they were put.
    const k0 = put.map((p, i) => [p, seqs[i]!] as const).filter(([p]) => p.partitionKey === 'k0');
    const holding = read.find((records) => records.some((r) => r.seq === k0[0]![1]))!;
    expect(holding.filter((r) => k0.some(([, s]) => s === r.seq)).map((r) => r.data)).toEqual(k0.map(([p]) => p.data));
    const [first] = (await store.readShard(stream, shards[0]!.id, null, 1)).records.concat((await store.readShard(stream, shards[1]!.id, null, 1)).records);
    expect(first!.arrival).toBeGreaterThan(Date.UTC(2020, 0, 1));
    expect(first!.partitionKey).toMatch(/^k\d$/);
  });

  it('a read after a sequence number gives the same records however much is put later; an open shard never ends', async () => {
    const store = await setup();
    const stream = fresh('s');
    await store.ensureStream(stream, 1);
    const [shard] = await store.listShards(stream);
    const seqs = await store.put(stream, ['a', 'b', 'c', 'd'].map((data) => ({ partitionKey: 'p', data })));
    const before = await store.readShard(stream, shard!.id, seqs[0]!, 2);
    await store.put(stream, ['e', 'f'].map((data) => ({ partitionKey: 'p', data })));
    const again = await store.readShard(stream, shard!.id, seqs[0]!, 2);
    expect(again.records.map((r) => r.data)).toEqual(['b', 'c']);
    expect(again.records).toEqual(before.records);
    const tail = await store.readShard(stream, shard!.id, null, 100);
    expect(tail.records.map((r) => r.data)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(tail.end).toBe(false);
    expect((await store.readShard(stream, shard!.id, tail.records[5]!.seq, 100)).records).toEqual([]);
  });

  it('a stream that does not exist is an error, not an empty stream', async () => {
    const store = await setup();
    await expect(store.listShards(fresh('missing'))).rejects.toThrow(/not found|ResourceNotFound/i);
  });
}
