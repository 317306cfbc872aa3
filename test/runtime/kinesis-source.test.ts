/**
 * The Kinesis source on the memory stream store: shards as splits, exact replay from an
 * offset, resharding (a child only after its parents, across subtasks too), dead letters,
 * and a job that reads a resharded stream exactly once, as the evaluation does.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../lib/adapters/memory/manual-clock.js';
import { memoryPorts, type MemoryPorts } from '../../lib/adapters/memory/index.js';
import { collect, job, kinesisSource } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import type { SourceBatch, SourceIo, SourceReader } from '../../lib/core/graph.js';
import type { JobName } from '../../lib/core/ids.js';
import { ownerOf } from '../../lib/core/kinesis-shards.js';
import { sourceIo } from '../../lib/runtime/source-io.js';
import { memoryWorld } from '../support/memory-world.js';

const JOB = 'kin' as JobName;

function setup() {
  const memory = memoryPorts(new ManualClock(Date.UTC(2026, 0, 1)));
  return { memory, io: sourceIo(memory, JOB) };
}

const put = (memory: MemoryPorts, stream: string, values: unknown[]) =>
  memory.streams.put(stream, values.map((v, i) => ({ partitionKey: `p${JSON.stringify(v)}${i}`, data: JSON.stringify(v) })));

/** One poll as the engine makes it: limits when it is sent, then the read. */
async function poll(reader: SourceReader, io: SourceIo, subtask: number, parallelism: number, offset: unknown, max: number): Promise<SourceBatch> {
  const limits = await reader.limits!(io, subtask, parallelism, offset);
  return reader.read(subtask, parallelism, offset, max, io, limits);
}

/** A subtask's polls until it finishes (bounded) or `polls` run out; what each emitted. */
async function drain(reader: SourceReader, memory: MemoryPorts, subtask: number, parallelism: number, state: { offset: unknown }, polls = 50, max = 4) {
  const io = sourceIo(memory, JOB);
  const emitted: unknown[] = [];
  for (let i = 0; i < polls; i++) {
    const batch: SourceBatch = await poll(reader, io, subtask, parallelism, state.offset, max);
    emitted.push(...batch.values);
    for (const key of batch.markers ?? []) await memory.blobs.put(`jobs/${JOB}/${key}`, '');
    state.offset = batch.next;
    if (batch.finished) return { emitted, finished: true };
  }
  return { emitted, finished: false };
}

describe('Kinesis source', () => {
  it('subtasks share the shards by shard number and, bounded, read every record once', async () => {
    const { memory } = setup();
    await memory.streams.ensureStream('orders', 4);
    await put(memory, 'orders', Array.from({ length: 30 }, (_, i) => i));
    const { reader } = kinesisSource<number>({ stream: 'orders', bounded: true });
    const got = await Promise.all([0, 1].map((s) => drain(reader, memory, s, 2, { offset: reader.start(s, 2) })));
    expect(got.every((g) => g.finished)).toBe(true);
    expect(got.flatMap((g) => g.emitted).sort((a, b) => (a as number) - (b as number))).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(ownerOf('shardId-000000000003', 2)).toBe(1);
  });

  it('a poll emits what its limits saw when it was sent, however much arrived since: a retry emits and leaves the same', async () => {
    const { memory, io } = setup();
    await memory.streams.ensureStream('s', 1);
    await put(memory, 's', [1, 2, 3]);
    const { reader } = kinesisSource<number>({ stream: 's', batchSize: 2 });
    const first = await poll(reader, io, 0, 1, reader.start(0, 1), 10); // takes the shard
    expect(first.values).toEqual([]);
    const limits = await reader.limits!(io, 0, 1, first.next); // sees 1, 2 (batchSize 2)
    const second = await reader.read(0, 1, first.next, 10, io, limits);
    await put(memory, 's', [4, 5]);
    const retried = await reader.read(0, 1, first.next, 10, io, limits);
    expect(second.values).toEqual([1, 2]);
    expect(retried).toEqual(second);
    const third = await poll(reader, io, 0, 1, second.next, 10);
    expect(third.values).toEqual([3, 4]);
    const fourth = await poll(reader, io, 0, 1, third.next, 1);
    expect(fourth.values).toEqual([5]);
    expect([second, third, fourth].some((b) => b.finished)).toBe(false);
  });

  it('a split shard’s children are read only after the parent, on whichever subtasks own them', async () => {
    const { memory } = setup();
    await memory.streams.ensureStream('s', 1);
    await put(memory, 's', ['p1', 'p2', 'p3']);
    const [c1, c2] = memory.streams.split('s', 'shardId-000000000000');
    await put(memory, 's', Array.from({ length: 12 }, (_, i) => `c${i}`));
    expect([ownerOf(c1, 2), ownerOf(c2, 2)]).toEqual([1, 0]);
    const { reader } = kinesisSource<string>({ stream: 's', bounded: true });
    const s0 = { offset: reader.start(0, 2) };
    const s1 = { offset: reader.start(1, 2) };
    // Subtask 1 owns child 1 but not the parent: nothing until subtask 0 has finished the parent.
    const early = await drain(reader, memory, 1, 2, s1, 5);
    expect(early).toEqual({ emitted: [], finished: false });
    const zero = await drain(reader, memory, 0, 2, s0);
    const one = await drain(reader, memory, 1, 2, s1);
    expect(zero.finished && one.finished).toBe(true);
    expect(zero.emitted.slice(0, 3)).toEqual(['p1', 'p2', 'p3']);
    expect([...zero.emitted.slice(3), ...one.emitted].sort()).toEqual(Array.from({ length: 12 }, (_, i) => `c${i}`).sort());
    expect(await memory.blobs.list(`jobs/${JOB}/kinesis/s/finished-shards/`)).toEqual([`jobs/${JOB}/kinesis/s/finished-shards/shardId-000000000000`]);
  });

  it('a merged shard waits for both parents, one of them another subtask’s', async () => {
    const { memory } = setup();
    await memory.streams.ensureStream('s', 2);
    await put(memory, 's', Array.from({ length: 10 }, (_, i) => `old${i}`));
    const child = memory.streams.merge('s', 'shardId-000000000000', 'shardId-000000000001');
    expect(ownerOf(child, 2)).toBe(0);
    await put(memory, 's', ['new0', 'new1']);
    const { reader } = kinesisSource<string>({ stream: 's', bounded: true });
    const s0 = { offset: reader.start(0, 2) };
    const s1 = { offset: reader.start(1, 2) };
    const zeroAlone = await drain(reader, memory, 0, 2, s0, 20);
    expect(zeroAlone.finished).toBe(false);
    expect(zeroAlone.emitted.some((v) => String(v).startsWith('new'))).toBe(false);
    const one = await drain(reader, memory, 1, 2, s1);
    const zero = await drain(reader, memory, 0, 2, s0);
    expect(one.finished && zero.finished).toBe(true);
    expect(zero.emitted).toEqual(['new0', 'new1']);
    expect([...zeroAlone.emitted, ...one.emitted].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `old${i}`).sort());
  });

  it('dead-letters data that is not JSON with its shard and sequence number; `arrival` is the record’s arrival time', async () => {
    const { memory, io } = setup();
    await memory.streams.ensureStream('s', 1);
    const [, bad] = await memory.streams.put('s', [
      { partitionKey: 'a', data: '{"n":1}' },
      { partitionKey: 'a', data: 'not json' },
    ]);
    const { reader } = kinesisSource<{ n: number }>({ stream: 's', timestamp: 'arrival' });
    let batch: SourceBatch = { values: [], next: reader.start(0, 1), finished: false };
    for (let i = 0; i < 2; i++) batch = await poll(reader, io, 0, 1, batch.next, 10);
    expect(batch.values).toEqual([{ n: 1 }]);
    expect(batch.timestamps).toEqual([Date.UTC(2026, 0, 1)]);
    expect(batch.rejected).toEqual([{ where: `s/shardId-000000000000@${bad}`, text: 'not json', reason: expect.stringMatching(/^not JSON/) }]);
    expect(() => kinesisSource({ stream: 's', format: 'csv' as never })).toThrow(/kinesisSource.format/);
    expect(() => kinesisSource({ stream: '' })).toThrow(/kinesisSource.stream/);
  });

  it('a job reads a resharded stream exactly once, with the evaluation’s result', async () => {
    const j = job(JOB, { parallelism: 3, checkpoints: { interval: 300 } });
    j.source('orders', kinesisSource<{ id: number; amount: number }>({ stream: 'orders', bounded: true, batchSize: 5 }))
      .keyBy((o) => o.id % 4)
      .reduce('total', (a, b) => ({ id: a.id, amount: a.amount + b.amount }))
      .sink('out', collect());
    const orders = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, amount: from + i }));
    const world = await memoryWorld(j.build(), {
      prepare: async (memory) => {
        await memory.streams.ensureStream('orders', 2);
        await put(memory, 'orders', orders(0, 20));
        const [a] = memory.streams.split('orders', 'shardId-000000000000');
        await put(memory, 'orders', orders(20, 20));
        memory.streams.merge('orders', a, 'shardId-000000000001');
        await put(memory, 'orders', orders(40, 20));
      },
    });
    await world.runToEnd();
    const expected = (await evaluateSequentially(world.graph, sourceIo(world.memory, JOB))).sinks.get('out') as { id: number; amount: number }[];
    const totals = (xs: { id: number; amount: number }[]) => [0, 1, 2, 3].map((k) => Math.max(...xs.filter((x) => x.id % 4 === k).map((x) => x.amount)));
    const committed = await world.committed<{ id: number; amount: number }>('out');
    expect(committed).toHaveLength(60);
    expect(totals(committed)).toEqual(totals(expected));
    expect(totals(committed)).toEqual([0, 1, 2, 3].map((k) => Array.from({ length: 60 }, (_, i) => i).filter((i) => i % 4 === k).reduce((a, b) => a + b, 0)));
  });
});
