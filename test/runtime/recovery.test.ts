import { describe, expect, it } from 'vitest';
import { collect, generator, job, type RestartStrategy } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { RecoveryManager } from '../../lib/runtime/recovery-manager.js';
import { updateJob } from '../../lib/runtime/job-records.js';
import type { MemoryPorts } from '../../lib/adapters/memory/index.js';
import { stageId, type SubtaskRef } from '../../lib/core/ids.js';
import type { Ports } from '../../lib/ports/index.js';
import type { StateStore } from '../../lib/ports/state-store.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Count {
  key: string;
  n: number;
}

function counts(name: string, restartStrategy?: RestartStrategy, poison = -1) {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 }, ...(restartStrategy ? { restartStrategy } : {}) });
  j.source('src', generator({ count: 200, batchSize: 8, make: (i) => ({ key: `k${i % 11}`, i }) }), { parallelism: 1 })
    .map('check', (e) => {
      if (e.i === poison) throw new Error(`poison record ${e.i}`);
      return e;
    })
    .keyBy((e) => e.key)
    .aggregate('count', { create: () => 0, add: (n: number) => n + 1, result: (n, key): Count => ({ key, n }) })
    .sink('out', collect());
  return j.build();
}

async function exact(world: Awaited<ReturnType<typeof memoryWorld>>) {
  const expected = (await evaluateSequentially(world.graph)).sinks.get('out')!;
  expect(sorted(await world.committed('out'))).toEqual(sorted(expected));
}

/** The memory ports, except that from the first state write `dies` picks on, state writes
 *  throw, as in a Lambda that died there; `before` runs once, at the first of them. */
function dyingAtStateWrite(memory: MemoryPorts, dies: (ref: SubtaskRef) => boolean, before: () => Promise<void>): Ports {
  const state = memory.state;
  let dead = false;
  const put: StateStore['put'] = async (job, ref, item) => {
    if (!dead && !dies(ref)) return state.put(job, ref, item);
    if (!dead) {
      dead = true;
      await before();
    }
    throw new Error('simulated crash');
  };
  return { ...memory, state: { ...bound(state), put } };
}

const bound = (store: StateStore): StateStore => ({
  maxItemBytes: store.maxItemBytes,
  latest: (job, ref) => store.latest(job, ref),
  readToBase: (job, ref) => store.readToBase(job, ref),
  putIfAbsent: (job, ref, item) => store.putIfAbsent(job, ref, item),
  put: (job, ref, item) => store.put(job, ref, item),
  deleteBefore: (job, ref, version) => store.deleteBefore(job, ref, version),
});

/** The steps of the restore to generation 2 that storage shows done, in restore order. */
async function restoreSteps(world: Awaited<ReturnType<typeof memoryWorld>>): Promise<string[]> {
  const job = (await world.job())!;
  const checkpoints = await world.memory.manifest.listCheckpoints(world.graph.name);
  const src = await world.memory.state.latest(world.graph.name, { stage: stageId('src'), index: 0 });
  return [
    ...(job.status === 'RESTORING' && job.gen === 2 ? ['generation-bumped'] : []),
    ...(checkpoints.every((c) => c.status !== 'PENDING') ? ['checkpoints-fenced'] : []),
    ...(job.restore?.from ? ['checkpoint-chosen'] : []),
    ...(src?.version.gen === 2 ? ['stage-restored:src'] : []),
  ];
}

describe('recovery', () => {
  it('restores the latest checkpoint at another parallelism (2 → 3) and stays exact', async () => {
    const world = await memoryWorld(counts('rescale'));
    for (let i = 0; i < 12; i++) await world.round();
    const before = (await world.memory.manifest.listCheckpoints('rescale')).find((c) => c.status === 'COMPLETED');
    expect(before).toBeDefined();
    const job = await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { count: 3 } });
    expect(job).toMatchObject({ status: 'RUNNING', gen: 2, parallelism: { count: 3 } });
    await world.runToEnd();
    await exact(world);
    const last = (await world.memory.manifest.listCheckpoints('rescale'))[0]!;
    expect(Object.keys(await world.memory.manifest.listAcks('rescale', last.id)).filter((k) => k.startsWith('count/')).sort()).toEqual(['count/0', 'count/1', 'count/2']);
  });

  it('a restore that crashes half-way is resumed and finishes correctly', async () => {
    const world = await memoryWorld(counts('crashy'));
    for (let i = 0; i < 10; i++) await world.round();
    // A restore dies at a port call, as a Lambda does: here at its first state write after
    // stage src's. The steps it got through are read back from storage at that moment.
    const steps: string[] = [];
    const ports = dyingAtStateWrite(world.memory, (ref) => ref.stage !== 'src', async () => void steps.push(...(await restoreSteps(world))));
    const crashing = new RecoveryManager(world.graph, ports, {});
    await expect(crashing.restore({ request: { kind: 'latest' }, reason: 'test' })).rejects.toThrow('simulated crash');
    expect((await world.job())!.status).toBe('RESTORING');
    expect(steps).toEqual(['generation-bumped', 'checkpoints-fenced', 'checkpoint-chosen', 'stage-restored:src']);
    // Anyone may resume it: here the recovery manager of the world.
    expect(await world.recovery.resume()).toMatchObject({ status: 'RUNNING', gen: 2 });
    await world.runToEnd();
    await exact(world);
  });

  it('stop-with-savepoint, then restore from that savepoint by name', async () => {
    const world = await memoryWorld(counts('savepoint'));
    for (let i = 0; i < 6; i++) await world.round();
    await updateJob(world.memory.manifest, 'savepoint', (j) => ({ ...j, savepointRequest: { name: 'before-upgrade', stop: true } }));
    for (let i = 0; i < 50 && (await world.job())!.status !== 'STOPPED'; i++) await world.round();
    expect((await world.job())!.status).toBe('STOPPED');
    const sp = (await world.memory.manifest.listCheckpoints('savepoint')).find((c) => c.savepoint === 'before-upgrade')!;
    expect(sp.status).toBe('COMPLETED');
    await world.recovery.restore({ request: { kind: 'savepoint', name: 'before-upgrade' }, reason: 'upgrade' });
    await world.runToEnd();
    await exact(world);
    // retention never deleted the savepoint
    expect((await world.memory.manifest.listCheckpoints('savepoint')).some((c) => c.savepoint === 'before-upgrade')).toBe(true);
  });

  it('fails over a user function error with the restart strategy, and fails the job when it gives up', async () => {
    const world = await memoryWorld(counts('poison', { type: 'fixed-delay', attempts: 2, delay: 100 }, 150));
    for (let i = 0; i < 500 && (await world.job())!.status === 'RUNNING'; i++) await world.round();
    const job = (await world.job())!;
    expect(job.status).toBe('FAILED');
    expect(job.detail).toMatch(/operator check threw: poison record 150/);
    expect(job.detail).toMatch(/2 restart attempts used/);
    expect(job.failures).toHaveLength(2);
    expect(job.gen).toBe(3);
  });

  it('with restart strategy none the first failure fails the job', async () => {
    const world = await memoryWorld(counts('none', { type: 'none' }, 20));
    for (let i = 0; i < 200 && (await world.job())!.status === 'RUNNING'; i++) await world.round();
    expect((await world.job())!).toMatchObject({ status: 'FAILED', gen: 1 });
  });

  it('refuses to restore an unknown savepoint or to rescale a source, and says why', async () => {
    const world = await memoryWorld(counts('refuse'));
    for (let i = 0; i < 8; i++) await world.round();
    const a = await world.recovery.restore({ request: { kind: 'savepoint', name: 'nope' }, reason: 'test' });
    expect(a).toMatchObject({ status: 'FAILED', detail: 'no completed savepoint named "nope"' });
    const b = await world.recovery.restore({ request: { kind: 'latest' }, reason: 'test', parallelism: { src: 2 } });
    expect(b!.status).toBe('FAILED');
    expect(b!.detail).toMatch(/cannot change parallelism from 1 to 2/);
  });
});
