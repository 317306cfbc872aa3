/**
 * A record that makes a user function throw, end to end on the memory adapters: by default
 * the job fails over and its job item says which operator, subtask, error and record; with
 * `onUserError: 'dead-letter'` the record is skipped — without a trace in state or output —
 * and its dead letter is written once, even across a restore.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, valueState, mapState, type JobOptions } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { memoryWorld, sorted, type World } from '../support/memory-world.js';

interface Event {
  key: string;
  i: number;
}

const POISON = 150;
const events = generator({ count: 200, batchSize: 8, make: (i): Event => ({ key: `k${i % 11}`, i }) });

/** src → check (map, throws on the poison record) → keyBy → count → out. */
function counting(name: string, options: JobOptions, poison: number | null = POISON): JobGraph {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 }, ...options });
  j.source('src', events, { parallelism: 1 })
    .map('check', (e) => {
      if (e.i === poison) throw new Error(`poison record ${e.i}`);
      return e;
    })
    .keyBy((e) => e.key)
    .aggregate('count', { create: () => 0, add: (n: number) => n + 1, result: (n, key) => ({ key, n }) })
    .sink('out', collect());
  return j.build();
}

/**
 * The sequential reference of the job the world ran, poison record and all: in dead-letter
 * mode it skips what the engine must skip. Pinned by hand as well (`poisonOnly`), so that a
 * reference and an engine wrong in the same way cannot agree unnoticed.
 */
async function reference(world: World) {
  const evaluation = await evaluateSequentially(world.graph);
  return { out: evaluation.sinks.get('out')!, deadLettered: evaluation.deadLettered };
}

/** The reference's dead letters when `operator` skipped the poison record and nothing else. */
const poisonOnly = (operator: string) => new Map([[operator, [{ key: `k${POISON % 11}`, i: POISON }]]]);

async function deadLetters(world: World, operator: string) {
  const keys = await world.memory.blobs.list(`jobs/${world.graph.name}/dead-letters/${operator}/`);
  return Promise.all(keys.map(async (k) => JSON.parse((await world.memory.blobs.get(k))!)));
}

async function runUntilNotRunning(world: World, rounds = 600) {
  const seen: number[] = [];
  for (let i = 0; i < rounds; i++) {
    await world.round();
    const j = (await world.job())!;
    if (seen.at(-1) !== j.restarts) seen.push(j.restarts);
    if (j.status === 'FAILED' || j.status === 'FINISHED') break;
  }
  return seen;
}

describe('a poison record with the default (fail over)', () => {
  it('fails over, counts restarts and names operator, subtask, error and record until the strategy gives up', async () => {
    const world = await memoryWorld(counting('poison-fail', { restartStrategy: { type: 'fixed-delay', attempts: 3, delay: 100 } }));
    const restarts = await runUntilNotRunning(world);
    const j = (await world.job())!;
    expect(j.status).toBe('FAILED');
    expect(restarts).toEqual([0, 1, 2, 3]);
    expect(j.restarts).toBe(3);
    expect(j.lastFailure).toMatchObject({
      code: 'USER_FUNCTION',
      operator: 'check',
      subtask: expect.stringMatching(/^check\/[01]$/),
      input: JSON.stringify({ key: `k${POISON % 11}`, i: POISON }),
    });
    expect(j.lastFailure!.message).toBe(`operator check threw: poison record ${POISON} (record {"key":"k7","i":150})`);
    expect(j.lastFailure!.at).toBeGreaterThan(0);
    expect(j.detail).toMatch(/fixed-delay: 3 restart attempts used/);
  });

  it('with the default exponential-delay strategy it keeps restarting, and says why each time', async () => {
    const world = await memoryWorld(counting('poison-expo', {}));
    for (let i = 0; i < 200 && ((await world.job())!.restarts ?? 0) < 2; i++) await world.round({ advanceMs: 2000 });
    const j = (await world.job())!;
    expect(j.restarts).toBeGreaterThanOrEqual(2);
    expect(j.lastFailure).toMatchObject({ code: 'USER_FUNCTION', operator: 'check', input: '{"key":"k7","i":150}' });
  });
});

describe("a poison record with onUserError: 'dead-letter'", () => {
  it('skips the record, finishes with everything else, and writes one dead letter', async () => {
    const world = await memoryWorld(counting('poison-skip', { onUserError: 'dead-letter' }));
    await world.runToEnd();
    const expected = await reference(world);
    expect(expected.out).toHaveLength(199);
    expect(expected.deadLettered).toEqual(poisonOnly('check'));
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected.out));
    const letters = await deadLetters(world, 'check');
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      operator: 'check',
      subtask: expect.stringMatching(/^check\/[01]$/),
      error: { code: 'USER_FUNCTION', message: expect.stringContaining('poison record 150'), cause: { name: 'Error', message: 'poison record 150' } },
      record: { key: 'k7', i: POISON },
    });
    const j = (await world.job())!;
    expect(j.deadLetters['user-function']).toBe(1);
    expect(j.restarts).toBe(0);
    expect(j.lastFailure).toBeNull();
  });

  it('skips the same record again after a restore and still leaves one dead letter, counted once', async () => {
    const world = await memoryWorld(counting('poison-replay', { onUserError: 'dead-letter' }));
    // The newest checkpoint completed before the record was skipped: restoring it replays the record.
    let before: number | null = null;
    for (let i = 0; i < 400 && (await deadLetters(world, 'check')).length === 0; i++) {
      const done = (await world.memory.manifest.listCheckpoints(world.graph.name)).filter((c) => c.status === 'COMPLETED');
      if (done.length > 0) before = Math.max(...done.map((c) => c.id));
      await world.round();
    }
    expect(await deadLetters(world, 'check')).toHaveLength(1);
    await world.recovery.restore({ request: before === null ? { kind: 'latest' } : { kind: 'checkpoint', checkpoint: before }, reason: 'test' });
    expect((await world.job())!.gen).toBe(2);
    await world.runToEnd();
    const expected = await reference(world);
    expect(expected.deadLettered).toEqual(poisonOnly('check'));
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected.out));
    expect(await deadLetters(world, 'check')).toHaveLength(1);
    expect((await world.job())!.deadLetters['user-function']).toBe(1);
  });

  it('undoes what a process function did to its state before it threw, and what it emitted', async () => {
    const graph = (poison: number | null) => {
      const j = job('poison-process', { parallelism: 2, checkpoints: { interval: 500 }, onUserError: 'dead-letter' });
      j.source('src', events, { parallelism: 1 })
        .keyBy((e) => e.key)
        .process('visits', {
          state: { total: valueState<{ n: number }>(), seen: mapState<number, boolean>() },
          processElement(e, ctx) {
            const total = ctx.state.total.value() ?? { n: 0 };
            total.n++; // in place, then update: allowed, and undone if the call throws
            ctx.state.total.update(total);
            ctx.state.seen.put(e.i, true);
            ctx.emit({ key: ctx.key, n: total.n, partial: true });
            if (e.i === poison) throw new Error('halfway');
            ctx.emit({ key: ctx.key, n: total.n, seen: ctx.state.seen.keys().length });
          },
        })
        .sink('out', collect());
      return j.build();
    };
    const world = await memoryWorld(graph(POISON));
    await world.runToEnd();
    const expected = await reference(world);
    expect(expected.out).toHaveLength(2 * 199);
    expect(expected.deadLettered).toEqual(poisonOnly('visits'));
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected.out));
    expect(await deadLetters(world, 'visits')).toHaveLength(1);
  });

  it('leaves the accumulator of an aggregate that changed it in place before throwing', async () => {
    const graph = (poison: number | null) => {
      const j = job('poison-aggregate', { parallelism: 2, checkpoints: { interval: 500 }, onUserError: 'dead-letter' });
      j.source('src', events, { parallelism: 1 })
        .keyBy((e) => e.key)
        .aggregate('sum', {
          create: () => ({ sum: 0 }),
          add: (acc: { sum: number }, e) => {
            acc.sum += e.i;
            if (e.i === poison) throw new Error('after changing acc');
            return acc;
          },
          result: (acc, key) => ({ key, sum: acc.sum }),
        })
        .sink('out', collect());
      return j.build();
    };
    const world = await memoryWorld(graph(POISON));
    await world.runToEnd();
    const expected = await reference(world);
    expect(expected.out).toHaveLength(199);
    expect(expected.deadLettered).toEqual(poisonOnly('sum'));
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected.out));
    expect(await deadLetters(world, 'sum')).toHaveLength(1);
  });
});
