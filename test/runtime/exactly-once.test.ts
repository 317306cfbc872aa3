import { describe, expect, it } from 'vitest';
import { collect, generator, job } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { OperatorRuntime } from '../../lib/runtime/operator-runtime.js';
import { StatePersistence } from '../../lib/runtime/state-persistence.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Keyed {
  key: string;
  v: number;
}

function counting(name: string, options: { count?: number; interval?: number; make?: (i: number) => Keyed } = {}) {
  const j = job(name, { parallelism: 2, checkpoints: { interval: options.interval ?? 400 } });
  j.source('src', generator({ count: options.count ?? 120, batchSize: 10, make: options.make ?? ((i): Keyed => ({ key: `k${i % 7}`, v: i })) }), { parallelism: 1 })
    .keyBy((e) => e.key)
    .reduce('sum', (a, b) => ({ ...a, v: a.v + b.v }))
    .sink('out', collect());
  return j.build();
}

async function expectExact(world: Awaited<ReturnType<typeof memoryWorld>>) {
  const expected = (await evaluateSequentially(world.graph)).sinks.get('out')!;
  expect(sorted(await world.committed('out'))).toEqual(sorted(expected));
}

describe('exactly-once mechanisms', () => {
  it('drops a duplicate delivery by its channel sequence number', async () => {
    const world = await memoryWorld(counting('dup'));
    const q = world.topology.stages[1]!.queue;
    let injected = 0;
    for (let round = 0; round < 5; round++) {
      await world.process('src');
      const records = world.memory.queue.peek(q).filter((m) => m.body.includes('"kind":"records"'));
      for (const r of records) world.memory.queue.injectDuplicate(q, r.group, r.body);
      injected += records.length;
      await world.round();
    }
    expect(injected).toBeGreaterThan(5);
    await world.runToEnd();
    await expectExact(world);
  });

  it('treats a skipped sequence number as a lost message and asks for a failover', async () => {
    const world = await memoryWorld(counting('gap'));
    await world.process('src');
    const q = world.topology.stages[1]!.queue;
    const records = world.memory.queue.peek(q).find((m) => m.body.includes('"kind":"records"'))!;
    const skipped = records.body.replace(/"seq":\d+/, '"seq":999');
    const result = await world.runtime.handleBatch('sum', [{ messageId: 'x', body: skipped, group: records.group }]);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'x' }]);
    const job = (await world.job())!;
    expect(job.failover?.reason).toMatch(/LOST_MESSAGE/);
  });

  it('fences envelopes of an older generation after a restore', async () => {
    const world = await memoryWorld(counting('fence', { interval: 200 }));
    const q = world.topology.stages[1]!.queue;
    const stale: { group: string; body: string }[] = [];
    for (let i = 0; i < 6; i++) {
      await world.process('src');
      stale.push(...world.memory.queue.peek(q));
      await world.round();
    }
    expect(stale.length).toBeGreaterThan(5);
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'test' });
    expect((await world.job())!.gen).toBe(2);
    // Replay every old envelope we saw, once more: all must be dropped.
    for (const m of stale) world.memory.queue.injectDuplicate(q, m.group, m.body);
    await world.runToEnd();
    await expectExact(world);
  });

  it('an overlapping (zombie) invocation loses the conditional commit and changes nothing', async () => {
    const world = await memoryWorld(counting('zombie'));
    await world.process('src');
    await world.process('src');
    const stage = world.topology.stages[1]!;
    const batch = await world.memory.queue.receive(stage.queue, { max: 10, visibilityTimeoutMs: 1 });
    expect(batch.length).toBeGreaterThan(0);
    const zombie = new OperatorRuntime(world.graph, world.memory);
    const [a, b] = await Promise.all([world.runtime.handleBatch(stage.id, batch), zombie.handleBatch(stage.id, batch)]);
    // Per message group exactly one of the two commits; every message fails in exactly one.
    const groups = new Set(batch.map((m) => m.group)).size;
    expect(world.runtime.stats.conflicts + zombie.stats.conflicts).toBe(groups);
    expect(a.batchItemFailures.length + b.batchItemFailures.length).toBe(batch.length);
    await world.memory.queue.delete(stage.queue, batch.map((m) => m.receiptHandle));
    world.clock.advance(10);
    await world.runToEnd();
    await expectExact(world);
  });

  it('keeps working state far larger than a 400 KB item by spilling it to the blob store', async () => {
    const big = 'x'.repeat(2000);
    const world = await memoryWorld(counting('big', { count: 800, make: (i) => ({ key: `k${i}`, v: i, pad: big }) as Keyed }));
    await world.runToEnd();
    await expectExact(world);
    expect(world.memory.blobs.bytesUnder('jobs/big/state/')).toBeGreaterThan(400 * 1024);
    // A cold container reads every key's accumulator back (the store refused any item over 400 KB).
    const persistence = new StatePersistence('big' as never, world.memory.state, world.memory.blobs);
    const loaded = await Promise.all([0, 1].map((index) => persistence.load({ stage: 'sum' as never, index })));
    const keys = loaded.flatMap((ws) => [...ws.entries.keys()].filter((k) => k.startsWith('k/sum/')));
    expect(keys).toHaveLength(800);
  });

  it('dead-letters malformed bodies with a reason without blocking the group or losing records', async () => {
    const world = await memoryWorld(counting('junk'));
    const stage = world.topology.stages[1]!;
    for (const body of ['not json', '{"v":2}', JSON.stringify({ v: 1, job: 'junk', gen: 1, kind: 'records', from: { op: 'src', subtask: 0 }, to: { op: 'nope', subtask: 0 }, seq: 1, recs: [] })]) {
      world.memory.queue.injectDuplicate(stage.queue, '0', body);
    }
    await world.runToEnd();
    await expectExact(world);
    expect((await world.job())!.deadLetters).toEqual({ 'not-json': 1, 'wrong-version': 1, 'unknown-operator': 1 });
    expect((await world.job())!.gen).toBe(1);
  });
});
