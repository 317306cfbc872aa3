/**
 * The jobs the simulation runs, named for `--topology`. Each one says how to compare its
 * committed output with the sequential evaluation. Rolling results that depend on the
 * arrival order of records from different channels are compared in an order-independent
 * form (per key: the running counts 1..n, and the final sum), which still catches every
 * duplicate and every loss. The plain topologies are here; the event-time ones (windows,
 * poison records) in windowed-topologies.ts, two-input ones in two-input-topologies.ts, state with a
 * time-to-live in state-topologies.ts, the Kinesis source's in source-topologies.ts, what they
 * share in topology-support.ts.
 */
import { aggregatingState, collect, generator, job, listState, outputTag, reducingState } from '../lib/api/index.js';
import { randomInt } from '../lib/core/rng.js';
import { canonicalCounts, countReducer, countsAtLeastOnce, event, settings, type Event, type SimTopology } from './topology-support.js';
import { SOURCE_TOPOLOGIES } from './source-topologies.js';
import { STATE_TOPOLOGIES } from './state-topologies.js';
import { TWO_INPUT_TOPOLOGIES } from './two-input-topologies.js';
import { timers } from './timer-topologies.js';
import { WINDOWED_TOPOLOGIES } from './windowed-topologies.js';

export { diff, type SimJob, type SimTopology } from './topology-support.js';

export const TOPOLOGIES: Record<string, SimTopology> = {
  chain: {
    name: 'chain',
    sinks: ['out'],
    build({ mode, random }) {
      const j = job('simchain', { ...settings(mode, random), parallelism: 2 });
      j.source('src', generator({ count: randomInt(random, 30, 120), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 4), make: event }))
        .map('triple', (e) => ({ ...e, value: e.value * 3 }), { parallelism: 3 })
        .filter('even', (e) => e.value % 2 === 0, { parallelism: 3 })
        .flatMap('split', (e) => [e, { ...e, id: -e.id }], { parallelism: 3 })
        .map('tag', (e) => `${e.id}:${e.key}:${e.value}`, { parallelism: 2 })
        .sink('out', collect(), { parallelism: 2 });
      return { graph: j.build() };
    },
    canonical: (records) => records.map(String),
    atLeastOnce(expected, actual) {
      const have = new Set(actual.map(String));
      return expected.map(String).filter((e) => !have.has(e)).map((e) => `missing ${e}`);
    },
  },
  rescale: {
    name: 'rescale',
    sinks: ['out'],
    rescale: [{ count: 3 }, { count: 2 }],
    build({ mode, random }) {
      const j = job('simrescale', { ...settings(mode, random), parallelism: 2 });
      j.source('src', generator({ count: randomInt(random, 30, 120), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 4), make: event }))
        .keyBy((e) => e.key)
        .aggregate('count', countReducer)
        .sink('out', collect());
      return { graph: j.build() };
    },
    canonical: canonicalCounts,
    atLeastOnce: countsAtLeastOnce,
  },
  fanin: {
    name: 'fanin',
    sinks: ['out'],
    build({ mode, random }) {
      const j = job('simfanin', { ...settings(mode, random), parallelism: 2 });
      const a = j.source('a', generator({ count: randomInt(random, 20, 80), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 4), make: event }));
      const b = j.source('b', generator({ count: randomInt(random, 20, 80), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 3), make: (i, r) => ({ ...event(i, r), id: 1000 + i }) }), { parallelism: 1 });
      a.union(b)
        .keyBy((e) => e.key)
        .aggregate('count', countReducer)
        .sink('out', collect());
      return { graph: j.build() };
    },
    canonical: canonicalCounts,
    atLeastOnce: countsAtLeastOnce,
  },
  // A keyed process function with every state kind but value and map (those: the windows'
  // and the reducers' topologies) and a side output: big values go to their own stream and
  // sink with the key's two values before them, every record updates the running count on
  // the main one; rescaled on restore. One source subtask, so each key's order is fixed.
  'side-outputs': {
    name: 'side-outputs',
    sinks: ['out', 'big'],
    rescale: [{ split: 3, big: 3 }, { split: 1, big: 1 }],
    build({ mode, random }) {
      const j = job('simside', { ...settings(mode, random), parallelism: 2 });
      const big = outputTag<Event & { before: number[] }>('big');
      const split = j
        .source('src', generator({ count: randomInt(random, 30, 120), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 4), make: event }), { parallelism: 1 })
        .keyBy((e) => e.key)
        .process('split', {
          state: {
            n: aggregatingState({ create: () => 0, add: (n: number) => n + 1, result: (n) => n }),
            sum: reducingState<number>((a, b) => a + b),
            before: listState<number>(),
          },
          sideOutputs: [big],
          processElement(e, ctx) {
            const { n, sum, before } = ctx.state;
            n.add(e);
            sum.add(e.value);
            if (e.value > 50) ctx.output(big, { ...e, before: before.get() });
            before.add(e.value);
            if (before.get().length > 2) before.update(before.get().slice(-2));
            ctx.emit({ key: ctx.key, n: n.get()!, sum: sum.get()! });
          },
        });
      split.sink('out', collect());
      split.getSideOutput(big).sink('big', collect());
      return { graph: j.build() };
    },
    // Counts on `out`, whole events on `big`.
    canonical: (records) => [...canonicalCounts(records.filter(isCount)), ...records.filter((r) => !isCount(r)).map((r) => JSON.stringify(r))],
    atLeastOnce(expected, actual) {
      const have = new Set(actual.filter((r) => !isCount(r)).map((r) => JSON.stringify(r)));
      const lost = expected.filter((r) => !isCount(r) && !have.has(JSON.stringify(r))).map((r) => `missing ${JSON.stringify(r)}`);
      return [...countsAtLeastOnce(expected.filter(isCount), actual.filter(isCount)), ...lost];
    },
  },
  'count-windows': {
    name: 'count-windows',
    sinks: ['out'],
    rescale: [{ win: 3 }, { win: 1 }],
    // Count windows per key, tumbling or sliding; one source subtask, so each key's records
    // come in one order and every run fills the same windows.
    build({ mode, random }) {
      const j = job('simcountwindows', { ...settings(mode, random), parallelism: 2 });
      const size = randomInt(random, 1, 6);
      const slide = randomInt(random, 0, 1) === 0 ? size : randomInt(random, 1, size);
      j.source('src', generator({ count: randomInt(random, 30, 150), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 4), make: event }), { parallelism: 1 })
        .keyBy((e) => e.key)
        .countWindow(size, slide)
        .process('win', (key, records, emit: (v: { key: string; ids: number[] }) => void) => emit({ key, ids: records.map((e) => e.id) }))
        .sink('out', collect());
      return { graph: j.build() };
    },
    canonical: (records) => records.map((r) => JSON.stringify(r)),
    // A replayed record shifts the windows after it: each key fires at least as many, no fewer.
    atLeastOnce(expected, actual) {
      const perKey = (records: unknown[]) => records.reduce<Map<string, number>>((m, r) => m.set((r as { key: string }).key, (m.get((r as { key: string }).key) ?? 0) + 1), new Map());
      const have = perKey(actual);
      return [...perKey(expected)].filter(([key, n]) => (have.get(key) ?? 0) < n).map(([key, n]) => `key ${key} fired ${have.get(key) ?? 0} windows, fewer than ${n}`);
    },
  },
  'operator-state': {
    name: 'operator-state',
    sinks: ['out'],
    rescale: [{ batch: 3 }, { batch: 1 }],
    // A function on a stream that is not keyed buffers records in list state and emits them
    // in batches, flushing at the end of input: rescaled restores split its lists. In half the
    // runs it reads two connected streams (the second's ids negated), one list for both.
    build({ mode, random }) {
      const j = job('simoperatorstate', { ...settings(mode, random), parallelism: 2 });
      const size = randomInt(random, 2, 9);
      const source = (name: string) =>
        j.source(name, generator({ count: randomInt(random, 30, 150), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 4), make: event }), { parallelism: randomInt(random, 1, 2) });
      const add = (e: Event, ctx: { state: { buffer: { add(e: Event): void; get(): Event[]; clear(): void } }; emit(v: Event[]): void }) => {
        ctx.state.buffer.add(e);
        if (ctx.state.buffer.get().length < size) return;
        ctx.emit(ctx.state.buffer.get());
        ctx.state.buffer.clear();
      };
      const flush = (ctx: { state: { buffer: { get(): Event[]; clear(): void } }; emit(v: Event[]): void }) => {
        if (ctx.state.buffer.get().length > 0) ctx.emit(ctx.state.buffer.get());
        ctx.state.buffer.clear();
      };
      const state = { buffer: listState<Event>() };
      const first = source('src').rebalance();
      const batches =
        randomInt(random, 0, 1) === 0
          ? first.process('batch', { state, processElement: add, endInput: flush })
          : first.connect(source('more').rebalance()).process('batch', { state, processElement1: add, processElement2: (e: Event, ctx) => add({ ...e, id: -e.id - 1 }, ctx), endInput: flush });
      batches.sink('out', collect());
      return { graph: j.build() };
    },
    // Batches depend on how records spread over subtasks; the records in them must not.
    canonical: (batches) => (batches as Event[][]).flatMap((b) => b.map((e) => JSON.stringify(e))),
    atLeastOnce(expected, actual) {
      const have = new Set((actual as Event[][]).flatMap((b) => b.map((e) => JSON.stringify(e))));
      return (expected as Event[][]).flatMap((b) => b.map((e) => JSON.stringify(e))).filter((e) => !have.has(e)).map((e) => `missing ${e}`);
    },
  },
  timers: timers(),
  ...WINDOWED_TOPOLOGIES,
  ...TWO_INPUT_TOPOLOGIES,
  ...STATE_TOPOLOGIES,
  ...SOURCE_TOPOLOGIES,
};

const isCount = (r: unknown) => typeof r === 'object' && r !== null && 'n' in r;
