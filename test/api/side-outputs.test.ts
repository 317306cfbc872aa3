/**
 * Side outputs (Flink's OutputTag and getSideOutput): what the types and the validation
 * promise, and that the engine commits exactly what the sequential evaluation says — also
 * when a record is dead-lettered (a skipped call leaves nothing on any output).
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { collect, generator, job, outputTag, valueState, type Stream } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { ConfigError } from '../../lib/core/errors.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Reading {
  readonly id: number;
  readonly sensor: string;
  readonly value: number;
}

function splitJob(name: string, options: { poison?: number } = {}) {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 }, ...(options.poison !== undefined ? { onUserError: 'dead-letter' as const } : {}) });
  const high = outputTag<Reading>('high');
  const low = outputTag<{ sensor: string; value: number }>('low');
  const split = j
    .source('src', generator({ count: 300, batchSize: 10, make: (i): Reading => ({ id: i, sensor: `s${i % 7}`, value: (i * 37) % 100 }) }), { parallelism: 1 })
    .keyBy((r) => r.sensor)
    .process('split', {
      state: { seen: valueState<number>() },
      sideOutputs: [high, low],
      processElement(r, ctx) {
        const seen = (ctx.state.seen.value() ?? 0) + 1;
        ctx.state.seen.update(seen);
        if (r.value >= 90) ctx.output(high, r);
        if (r.value < 5) ctx.output(low, { sensor: r.sensor, value: r.value });
        if (r.id === options.poison) throw new Error('poison');
        ctx.emit({ sensor: ctx.key, seen });
      },
    });
  expectTypeOf(split.getSideOutput(high)).toEqualTypeOf<Stream<Reading>>();
  split.sink('out', collect());
  split.getSideOutput(high).map('tag', (r) => ({ ...r, tagged: true })).sink('high', collect());
  split.getSideOutput(low).sink('low', collect());
  return j.build();
}

describe('side outputs', () => {
  it('each tag is its own stream; the engine commits what the sequential evaluation says, also after a rescale', async () => {
    const world = await memoryWorld(splitJob('side'));
    for (let i = 0; i < 15; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { split: 3, tag: 3, low: 3 } });
    await world.runToEnd();
    const expected = await evaluateSequentially(world.graph);
    for (const sink of ['out', 'high', 'low']) {
      expect(sorted(await world.committed(sink)), sink).toEqual(sorted(expected.sinks.get(sink)!));
    }
    expect(expected.sinks.get('high')!.length).toBe(30);
    expect(expected.sinks.get('high')!.every((r) => (r as { tagged: boolean }).tagged)).toBe(true);
    expect(expected.sinks.get('low')!.length).toBe(15);
  });

  it('a stage\'s main and side outputs read by one operator (one channel carries both): every record once, across a rescale', async () => {
    const j = job('side-union', { parallelism: 2, checkpoints: { interval: 200 } });
    const odd = outputTag<number>('odd');
    const split = j
      .source('src', generator({ count: 400, batchSize: 7, make: (i) => i }), { parallelism: 2 })
      .keyBy((i) => i % 11)
      .process('split', {
        state: {},
        sideOutputs: [odd],
        processElement(i, ctx) {
          if (i % 2 === 1) ctx.output(odd, i);
          else ctx.emit(i);
        },
      });
    split.union(split.getSideOutput(odd)).keyBy((i) => (i as number) % 3).reduce('total', (a, b) => (a as number) + (b as number)).sink('out', collect());
    const world = await memoryWorld(j.build());
    for (let i = 0; i < 10; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { total: 3 } });
    await world.runToEnd();
    const totals = new Map<number, number>();
    for (const t of (await world.committed('out')) as number[]) totals.set(t % 3, Math.max(totals.get(t % 3) ?? 0, t));
    const sum = (r: number) => Array.from({ length: 400 }, (_, i) => i).filter((i) => i % 3 === r).reduce((a, b) => a + b, 0);
    expect([...totals.entries()].sort()).toEqual([0, 1, 2].map((r) => [r, sum(r)]));
  });

  it('a dead-lettered call leaves nothing on its side outputs either', async () => {
    // Record 27 (value 99) goes to `high`, then its call throws: it is skipped whole.
    const graph = splitJob('side-poison', { poison: 27 });
    const expected = await evaluateSequentially(graph);
    expect(expected.sinks.get('high')!.length).toBe(29);
    expect(expected.sinks.get('high')!.some((r) => (r as Reading).id === 27)).toBe(false);
    const world = await memoryWorld(graph);
    await world.runToEnd();
    for (const sink of ['out', 'high', 'low']) expect(sorted(await world.committed(sink)), sink).toEqual(sorted(expected.sinks.get(sink)!));
  });

  it('refuses an undeclared tag at getSideOutput, a non-tag in sideOutputs, and a tag listed twice', () => {
    const tag = outputTag<number>('t');
    const keyed = () => job('bad').source('src', generator({ count: 1, make: (i) => i })).keyBy((i) => i);
    const plain = keyed().process('p', { state: {}, processElement() {} });
    expect(() => plain.getSideOutput(tag)).toThrow(ConfigError);
    expect(() => plain.getSideOutput(tag)).toThrow('p declares no side output "t"');
    expect(() => keyed().process('p', { state: {}, sideOutputs: ['t' as never], processElement() {} })).toThrow('operators.p.sideOutputs.0');
    expect(() => keyed().process('p', { state: {}, sideOutputs: [tag, outputTag('t')], processElement() {} })).toThrow('lists t twice');
    expect(() => outputTag('has/slash')).toThrow(ConfigError);
  });

  it('emitting to a tag the function does not declare is that function\'s error, in the evaluation and the engine alike', async () => {
    const other = outputTag<number>('other');
    const j = job('undeclared', { parallelism: 1 });
    j.source('src', generator({ count: 3, make: (i) => i }))
      .keyBy((i) => i % 2)
      .process('p', { state: {}, sideOutputs: [outputTag<number>('mine')], processElement: (v, ctx) => ctx.output(other, v) })
      .sink('out', collect());
    await expect(evaluateSequentially(j.build())).rejects.toThrow('emitted to side output "other", which it does not declare in sideOutputs');
  });
});
