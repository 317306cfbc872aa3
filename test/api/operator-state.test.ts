/**
 * Operator state (a process function on a stream that is not keyed, Flink's list and union
 * list state): a buffering function loses and repeats nothing across a restore at another
 * parallelism — its lists split evenly — and flushes at the end of input; union lists reach
 * every subtask of a restore whole; keyed state and timers are refused there with errors
 * that say why. The engine must commit what the sequential evaluation gives.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, listState, unionListState, valueState } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

/** Records 0..count-1 rebalanced over the function's subtasks, emitted in batches of `size`. */
function batching(name: string, count: number, size: number): JobGraph {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 } });
  j.source('src', generator({ count, batchSize: 3, make: (i) => i }), { parallelism: 1 })
    .rebalance()
    .process('batch', {
      state: { buffer: listState<number>() },
      processElement(i, ctx) {
        ctx.state.buffer.add(i);
        if (ctx.state.buffer.get().length < size) return;
        ctx.emit(ctx.state.buffer.get());
        ctx.state.buffer.clear();
      },
      endInput(ctx) {
        const rest = ctx.state.buffer.get();
        if (rest.length > 0) ctx.emit(rest);
        ctx.state.buffer.clear();
      },
    })
    .sink('out', collect());
  return j.build();
}

const elements = (batches: unknown[]) => (batches as number[][]).flat().sort((a, b) => a - b);

describe('operator state', () => {
  it('a buffering function emits every record once, in batches of at most its size, and flushes at the end of input', async () => {
    const graph = batching('batching', 100, 7);
    const expected = (await evaluateSequentially(graph)).sinks.get('out') as number[][];
    expect(elements(expected)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const world = await memoryWorld(graph);
    await world.runToEnd();
    const batches = (await world.committed('out')) as number[][];
    expect(elements(batches)).toEqual(elements(expected));
    expect(batches.every((b) => b.length >= 1 && b.length <= 7)).toBe(true);
    // One partial batch per subtask at most: the rest are full.
    expect(batches.filter((b) => b.length < 7).length).toBeLessThanOrEqual(2);
  });

  it.each([[{ batch: 3 }], [{ batch: 1 }]])('restored at parallelism %j, the buffered records are split over the new subtasks: none lost, none twice', async (parallelism) => {
    const graph = batching(`batching-${parallelism.batch}`, 300, 11);
    const world = await memoryWorld(graph);
    for (let i = 0; i < 12; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism });
    await world.runToEnd();
    expect(elements(await world.committed('out'))).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('a union list reaches every subtask of a restore whole', async () => {
    const j = job('union', { parallelism: 2, checkpoints: { interval: 300 } });
    j.source('src', generator({ count: 60, batchSize: 2, make: (i) => i }), { parallelism: 1 })
      .rebalance()
      .process('seen', {
        state: { firsts: unionListState<number>(), mine: listState<number>() },
        processElement(i, ctx) {
          // Each subtask's first record: one entry per subtask in the union.
          if (ctx.state.mine.get().length === 0) {
            ctx.state.mine.add(i);
            ctx.state.firsts.add(i);
          }
        },
        endInput(ctx) {
          ctx.emit(ctx.state.firsts.get().length);
        },
      })
      .sink('out', collect());
    const world = await memoryWorld(j.build());
    for (let i = 0; i < 15; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { seen: 3 } });
    await world.runToEnd();
    // Two old subtasks had one first each; each of the three new subtasks holds both (and adds none: `mine` went along split).
    const sizes = (await world.committed('out')) as number[];
    expect(sizes).toHaveLength(3);
    expect(sizes.every((n) => n >= 2)).toBe(true);
  });

  it('connects two streams neither keyed: each input reaches its own function, both on the same lists, across a rescale', async () => {
    const j = job('co-batching', { parallelism: 2, checkpoints: { interval: 300 } });
    const negatives = j.source('neg', generator({ count: 90, batchSize: 2, make: (i) => -(i + 1) }), { parallelism: 1 });
    j.source('pos', generator({ count: 120, batchSize: 3, make: (i) => i }), { parallelism: 1 })
      .rebalance()
      .connect(negatives.rebalance())
      .process('both', {
        state: { buffer: listState<string>() },
        processElement1(i, ctx) {
          ctx.state.buffer.add(`a${i}`);
          if (ctx.state.buffer.get().length < 5) return;
          ctx.emit(ctx.state.buffer.get());
          ctx.state.buffer.clear();
        },
        processElement2(i, ctx) {
          ctx.state.buffer.add(`b${i}`);
        },
        endInput(ctx) {
          if (ctx.state.buffer.get().length > 0) ctx.emit(ctx.state.buffer.get());
          ctx.state.buffer.clear();
        },
      })
      .sink('out', collect());
    const graph = j.build();
    const all = [...Array.from({ length: 120 }, (_, i) => `a${i}`), ...Array.from({ length: 90 }, (_, i) => `b${-(i + 1)}`)].sort();
    expect(((await evaluateSequentially(graph)).sinks.get('out') as string[][]).flat().sort()).toEqual(all);
    const world = await memoryWorld(graph);
    for (let i = 0; i < 12; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { both: 3 } });
    await world.runToEnd();
    expect(((await world.committed('out')) as string[][]).flat().sort()).toEqual(all);
    const keyed = j.source('k', generator({ count: 1, make: (i) => i }));
    expect(() => keyed.connect(keyed.keyBy((i) => i))).toThrow('this stream is not keyed: connect another that is not keyed, or keyBy() this one first');
  });

  it('keyed state, timers and keyBy are refused with what to do instead', async () => {
    const src = () => job('bad-operator-state').source('src', generator({ count: 2, make: (i) => i }));
    expect(() => src().process('p', { state: { v: valueState<number>() as never }, processElement() {} })).toThrow(ConfigError);
    expect(() => src().process('p', { state: { v: valueState<number>() as never }, processElement() {} })).toThrow('listState() or unionListState() (keyBy first for keyed state)');
    expect(() => src().keyBy((i) => i).process('p', { state: {}, processElement() {}, endInput() {} })).toThrow('operators.p.endInput: is for a stream that is not keyed');
    const j = job('timer-no-key', { parallelism: 1 });
    j.source('src', generator({ count: 2, make: (i) => i }))
      .process('p', { processElement: (_i, ctx) => (ctx as unknown as { timerService: { registerEventTimeTimer(t: number): void } }).timerService.registerEventTimeTimer(1) })
      .sink('out', collect());
    await expect(evaluateSequentially(j.build())).rejects.toThrow('timers need a key: this stream is not keyed (keyBy first)');
  });
});
