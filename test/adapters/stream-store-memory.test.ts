/** The stream store contract on the memory adapter, and its resharding, which the emulator's Kinesis cannot do faithfully. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/adapters/memory/manual-clock.js';
import { MemoryStreamStore } from '../../lib/adapters/memory/memory-stream-store.js';
import { streamStoreContract } from '../contracts/stream-store-contract.js';

const store = () => new MemoryStreamStore(new ManualClock(Date.UTC(2026, 0, 1)));

describe('memory stream store', () => {
  streamStoreContract(async () => store());

  it('a split closes the parent, which stays readable to its end; new records go to the children', async () => {
    const s = store();
    await s.ensureStream('st', 1);
    const [parent] = await s.listShards('st');
    await s.put('st', ['a', 'b'].map((data) => ({ partitionKey: data, data })));
    const children = s.split('st', parent!.id);
    await s.put('st', Array.from({ length: 20 }, (_, i) => ({ partitionKey: `k${i}`, data: `c${i}` })));
    const listing = await s.listShards('st');
    expect(listing).toEqual([
      { id: parent!.id, parents: [], closed: true },
      { id: children[0], parents: [parent!.id], closed: false },
      { id: children[1], parents: [parent!.id], closed: false },
    ]);
    const old = await s.readShard('st', parent!.id, null, 10);
    expect(old).toMatchObject({ end: true });
    expect(old.records.map((r) => r.data)).toEqual(['a', 'b']);
    // Not at its end while a record follows.
    expect((await s.readShard('st', parent!.id, null, 1)).end).toBe(false);
    const inChildren = await Promise.all(children.map((c) => s.readShard('st', c, null, 100)));
    expect(inChildren.flatMap((r) => r.records.map((x) => x.data)).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `c${i}`).sort());
    expect(inChildren.every((r) => r.records.length > 0 && !r.end)).toBe(true);
  });

  it('a merge closes both parents; the child covers both hash ranges', async () => {
    const s = store();
    await s.ensureStream('st', 2);
    const [a, b] = await s.listShards('st');
    const child = s.merge('st', a!.id, b!.id);
    await s.put('st', Array.from({ length: 10 }, (_, i) => ({ partitionKey: `k${i}`, data: `m${i}` })));
    expect((await s.listShards('st')).find((x) => x.id === child)).toEqual({ id: child, parents: [a!.id, b!.id], closed: false });
    expect((await s.readShard('st', child, null, 100)).records).toHaveLength(10);
    expect(() => s.merge('st', a!.id, b!.id)).toThrow(/already closed/);
  });
});
