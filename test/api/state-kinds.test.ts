/**
 * List, reducing and aggregating state in keyed process functions (Flink's ListState,
 * ReducingState, AggregatingState): typed handles, declarations checked when the job is
 * defined, and the engine — restored at another parallelism midway, and skipping a
 * dead-lettered call — commits what the sequential evaluation says.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { aggregatingState, collect, generator, job, listState, reducingState, type AggregatingState, type ListState, type ReducingState } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { ConfigError } from '../../lib/core/errors.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Reading {
  readonly id: number;
  readonly sensor: string;
  readonly value: number;
}

function statsJob(name: string, poison = -1) {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 }, onUserError: 'dead-letter' });
  j.source('src', generator({ count: 240, batchSize: 8, make: (i): Reading => ({ id: i, sensor: `s${i % 5}`, value: (i * 53) % 97 }) }), { parallelism: 1 })
    .keyBy((r) => r.sensor)
    .process('stats', {
      state: {
        recent: listState<number>(),
        max: reducingState<number>((a, b) => Math.max(a, b)),
        mean: aggregatingState({ create: () => ({ n: 0, sum: 0 }), add: (acc: { n: number; sum: number }, v: number) => ({ n: acc.n + 1, sum: acc.sum + v }), result: (acc) => acc.sum / acc.n }),
      },
      processElement(r, ctx) {
        expectTypeOf(ctx.state.recent).toEqualTypeOf<ListState<number>>();
        expectTypeOf(ctx.state.max).toEqualTypeOf<ReducingState<number>>();
        expectTypeOf(ctx.state.mean).toEqualTypeOf<AggregatingState<number, number>>();
        ctx.state.recent.add(r.value);
        ctx.state.max.add(r.value);
        ctx.state.mean.add(r.value);
        // A call that throws after changing all three must leave none of them changed.
        if (r.id === poison) throw new Error('poison');
        const recent = ctx.state.recent.get();
        if (recent.length > 3) ctx.state.recent.update(recent.slice(-3));
        if (r.value === 0) ctx.state.recent.clear();
        ctx.emit({ sensor: ctx.key, recent: ctx.state.recent.get(), max: ctx.state.max.get(), mean: ctx.state.mean.get() });
      },
    })
    .sink('out', collect());
  return j.build();
}

async function expectExact(name: string, poison?: number) {
  const world = await memoryWorld(statsJob(name, poison));
  for (let i = 0; i < 12; i++) await world.round();
  await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { stats: 3 } });
  await world.runToEnd();
  const expected = (await evaluateSequentially(world.graph)).sinks.get('out')!;
  expect(sorted(await world.committed('out'))).toEqual(sorted(expected));
  return expected as { sensor: string; recent: number[]; max: number; mean: number }[];
}

describe('list, reducing and aggregating state', () => {
  it('keep their values per key across checkpoints and a rescaling restore', async () => {
    const out = await expectExact('kinds');
    const last = out.filter((o) => o.sensor === 's1').at(-1)!;
    const values = Array.from({ length: 240 }, (_, i) => i).filter((i) => i % 5 === 1).map((i) => (i * 53) % 97);
    expect(last.max).toBe(Math.max(...values));
    expect(last.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length);
    expect(last.recent.length).toBeLessThanOrEqual(3);
  });

  it('a dead-lettered call leaves all three as they were', async () => {
    const out = await expectExact('kinds-poison', 101);
    const s1 = out.filter((o) => o.sensor === 's1');
    expect(s1).toHaveLength(47);
  });

  it('refuses a declaration that is not one, or lacks its functions, naming the field', () => {
    const keyed = () => job('bad').source('src', generator({ count: 1, make: (i) => i })).keyBy((i) => i);
    expect(() => keyed().process('p', { state: { s: { kind: 'reducing' } as never }, processElement() {} })).toThrow('operators.p.state.s.reduce');
    expect(() => keyed().process('p', { state: { s: { kind: 'aggregating', create: () => 0, add: 1, result: (x: number) => x } as never }, processElement() {} })).toThrow('operators.p.state.s.add');
    expect(() => keyed().process('p', { state: { s: { kind: 'queue' } as never }, processElement() {} })).toThrow(ConfigError);
  });
});
