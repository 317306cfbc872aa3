/**
 * Incremental checkpoints as a user relies on them: checkpoints write what changed (deltas
 * chained onto a full snapshot), a restore from a chain — at another parallelism too — is
 * exact, savepoints are whole, and retention leaves no object behind that no checkpoint in
 * the manifest can reach.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { parseCheckpointObject } from '../../lib/core/wire/storage-keys.js';
import { updateJob } from '../../lib/runtime/job-records.js';
import { memoryWorld, sorted, type World } from '../support/memory-world.js';

function counts(name: string, checkpoints: { incremental?: boolean; fullSnapshotEvery?: number } = {}) {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300, retained: 2, ...checkpoints } });
  // 400 distinct keys first, then updates of 5 hot keys: later checkpoints change little.
  j.source('src', generator({ count: 1200, batchSize: 20, make: (i) => (i < 400 ? `cold${i}` : `hot${i % 5}`) }), { parallelism: 1 })
    .keyBy((k) => k)
    .aggregate('count', { create: () => 0, add: (n: number) => n + 1, result: (n, key) => ({ key, n }) })
    .sink('out', collect());
  return j.build();
}

async function exact(world: World) {
  const expected = (await evaluateSequentially(world.graph)).sinks.get('out')!;
  expect(sorted(await world.committed('out'))).toEqual(sorted(expected));
}

async function countAcks(world: World) {
  const acks = [];
  for (const c of await world.memory.manifest.listCheckpoints(world.graph.name)) {
    if (c.status !== 'COMPLETED') continue;
    for (const [subtask, ack] of Object.entries(await world.memory.manifest.listAcks(world.graph.name, c.id))) acks.push({ id: c.id, subtask, ...ack });
  }
  return acks.filter((a) => a.subtask.startsWith('count/'));
}

describe('incremental checkpoints', () => {
  it('write deltas much smaller than the state, and a restore from a chain at another parallelism is exact', async () => {
    const world = await memoryWorld(counts('incr'));
    for (let i = 0; i < 60; i++) await world.round();
    const acks = await countAcks(world);
    const deltas = acks.filter((a) => (a.chained ?? 0) > 0);
    expect(deltas.length).toBeGreaterThan(0);
    // A delta holds the few keys that changed; a restore reads the chain it builds on.
    for (const d of deltas) expect(d.bytes).toBeLessThan(d.stateSize!);
    expect(deltas.some((d) => d.bytes * 4 < d.stateSize!)).toBe(true);
    const restoredBefore = world.recovery.stats.chainedObjects;
    expect(await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { count: 3 } })).toMatchObject({ status: 'RUNNING', gen: 2 });
    expect(world.recovery.stats.chainedObjects).toBeGreaterThan(restoredBefore);
    await world.runToEnd();
    await exact(world);
  });

  it('with incremental off every snapshot is whole', async () => {
    const world = await memoryWorld(counts('whole', { incremental: false }));
    await world.runToEnd();
    await exact(world);
    const acks = await countAcks(world);
    expect(acks.length).toBeGreaterThan(0);
    expect(acks.every((a) => a.chained === 0 && a.stateSize === a.bytes)).toBe(true);
  });

  it('a savepoint is whole, and a restore from it is exact', async () => {
    const world = await memoryWorld(counts('sp'));
    for (let i = 0; i < 30; i++) await world.round();
    // What `tidemark savepoint` writes: the request the coordinator takes up.
    await updateJob(world.memory.manifest, world.graph.name, (j) => ({ ...j, savepointRequest: { name: 'mid', stop: false } }));
    let sp = null;
    for (let i = 0; i < 40 && !sp; i++) {
      await world.round();
      sp = (await world.memory.manifest.listCheckpoints(world.graph.name)).find((c) => c.savepoint === 'mid' && c.status === 'COMPLETED') ?? null;
    }
    expect(sp).not.toBeNull();
    const acks = Object.values(await world.memory.manifest.listAcks(world.graph.name, sp!.id));
    expect(acks.every((a) => a.chained === 0)).toBe(true);
    expect(await world.recovery.restore({ request: { kind: 'savepoint', name: 'mid' }, reason: 'test' })).toMatchObject({ status: 'RUNNING', gen: 2 });
    await world.runToEnd();
    await exact(world);
  });

  it('retention leaves no snapshot object that no checkpoint in the manifest has', async () => {
    const world = await memoryWorld(counts('leak', { fullSnapshotEvery: 3 }));
    await world.runToEnd();
    // Some more ticks: retention runs on the coordinator's.
    for (let i = 0; i < 5; i++) await world.round();
    const known = new Set((await world.memory.manifest.listCheckpoints(world.graph.name)).map((c) => c.id));
    const objects = await world.memory.blobs.list(`jobs/${world.graph.name}/checkpoints/`);
    const stray = objects.filter((k) => !known.has(parseCheckpointObject(k)!.checkpoint));
    expect(objects.length).toBeGreaterThan(0);
    expect(stray).toEqual([]);
  });
});
