/**
 * The sequential reference in `onUserError: 'dead-letter'` mode against real engine runs on
 * the memory adapters: for every place a user function can throw on a record, the engine's
 * committed output and its dead letters (one per operator and distinct record) must be the
 * reference's. Each test also pins the dead letters by hand, so that a reference and an
 * engine wrong in the same way cannot agree unnoticed.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, mapState, session, sliding, tumbling, valueState, type Window } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Rec {
  readonly i: number;
  readonly key: string;
}

const N = 120;
const records = (make: (i: number) => Rec = (i) => ({ i, key: `k${i % 5}` })) => generator({ count: N, batchSize: 7, make });
/** Event time i * 10, in order: a one-subtask source's watermark then decides lateness alike everywhere. */
const timed = () => generator({ count: N, batchSize: 5, make: (i): Rec => ({ i, key: `k${i % 3}` }), timestamp: (i) => i * 10 });
const settings = { parallelism: 2, checkpoints: { interval: 400 }, onUserError: 'dead-letter' } as const;
const bad = (...ids: number[]) => new Set(ids);

/** Runs the job; every sink and the dead letters must equal the reference's. Returns the dead letters. */
async function engineMatchesReference(graph: JobGraph, ...sinks: string[]) {
  const world = await memoryWorld(graph);
  await world.runToEnd();
  const evaluation = await evaluateSequentially(graph);
  for (const sink of sinks) expect(sorted(await world.committed(sink)), `sink ${sink}`).toEqual(sorted(evaluation.sinks.get(sink)!));
  const written: Record<string, string[]> = {};
  for (const key of await world.memory.blobs.list(`jobs/${graph.name}/dead-letters/`)) {
    const letter = JSON.parse((await world.memory.blobs.get(key))!) as { operator: string; record: unknown };
    (written[letter.operator] ??= []).push(JSON.stringify(letter.record));
  }
  const expected = Object.fromEntries([...evaluation.deadLettered].map(([op, rs]) => [op, rs.map((r) => JSON.stringify(r))]));
  const bySorted = (o: Record<string, string[]>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, [...v].sort()]));
  expect(bySorted(written)).toEqual(bySorted(expected));
  expect((await world.job())!.restarts).toBe(0);
  return bySorted(expected);
}

const ids = (...is: number[]) => is.map((i) => JSON.stringify({ i, key: `k${i % 5}` })).sort();

describe("the reference skips what the engine skips (onUserError: 'dead-letter')", () => {
  it('map, filter and flatMap: the input is dropped, a flatMap that yielded then threw emits none of it', async () => {
    const j = job('dl-stateless', settings);
    j.source('src', records(), { parallelism: 1 })
      .map('m', (r) => {
        if (bad(3, 40).has(r.i)) throw new Error('map');
        return r;
      })
      .filter('f', (r) => {
        if (bad(5, 41).has(r.i)) throw new Error('filter');
        return r.i % 2 === 1 || r.i < 60;
      })
      .broadcast()
      .flatMap('fm', function* (r) {
        yield r;
        if (bad(7, 59).has(r.i)) throw new Error('flatMap, after a yield');
        yield { ...r, i: -r.i };
      })
      .sink('out', collect());
    // The broadcast hands each record to both flatMap subtasks: both throw, one dead letter.
    expect(await engineMatchesReference(j.build(), 'out')).toEqual({ m: ids(3, 40), f: ids(5, 41), fm: ids(7, 59) });
  });

  it('keyBy: a key selector that throws or gives no valid key drops the record at every consumer of the keyBy', async () => {
    const j = job('dl-keys', settings);
    const keyOf = (r: Rec): string => {
      if (r.i === 11) throw new Error('no key');
      const odd: Record<number, unknown> = { 12: null, 13: undefined, 14: Number.NaN, 15: { k: 1 }, 16: Infinity };
      return (r.i in odd ? odd[r.i] : r.key) as string;
    };
    const src = j.source('src', records(), { parallelism: 1 });
    src.keyBy(keyOf).aggregate('count', { create: () => 0, add: (n: number) => n + 1, result: (n, key) => ({ key, n }) }).sink('out', collect());
    src.keyBy(keyOf).map('tag', (r) => r.i).sink('tagged', collect());
    src.keyBy(keyOf).sink('raw', collect());
    const dropped = ids(11, 12, 13, 14, 15, 16);
    expect(await engineMatchesReference(j.build(), 'out', 'tagged', 'raw')).toEqual({ count: dropped, tag: dropped, raw: dropped });
  });

  it('reduce and aggregate: state stays as before the record, even when the function changed its copy in place', async () => {
    const j = job('dl-rolling', settings);
    const src = j.source('src', records(), { parallelism: 1 });
    src
      .keyBy((r) => r.key)
      .reduce('red', (acc, r) => {
        const sum = acc as Rec & { sum?: number };
        sum.sum = (sum.sum ?? acc.i) + r.i;
        if (bad(1, 21, 22, 77).has(r.i)) throw new Error('reduce');
        return sum;
      })
      .sink('reduced', collect());
    src
      .keyBy((r) => r.key)
      .aggregate('agg', {
        create: () => ({ n: 0, ids: [] as number[] }),
        add: (acc, r) => {
          acc.n++;
          acc.ids.push(r.i);
          if (r.i === 30) throw new Error('add');
          return acc;
        },
        result: (acc, key) => {
          if (acc.ids.includes(31)) throw new Error('result');
          return { key, n: acc.n, last: acc.ids.at(-1) };
        },
      })
      .sink('aggregated', collect());
    // 1 is k1's first record: a reduce makes no call for it, so it cannot throw there.
    expect(await engineMatchesReference(j.build(), 'reduced', 'aggregated')).toEqual({ red: ids(21, 22, 77), agg: ids(30, 31) });
  });

  it('process: the state it touched is restored and what it emitted before throwing is dropped', async () => {
    const j = job('dl-process', settings);
    j.source('src', records(), { parallelism: 1 })
      .keyBy((r) => r.key)
      .process('p', {
        state: { total: valueState<{ n: number }>(), seen: mapState<string, number[]>() },
        processElement(r, ctx) {
          const total = ctx.state.total.value() ?? { n: 0 };
          total.n++;
          ctx.state.total.update(total);
          const list = ctx.state.seen.get('all') ?? [];
          list.push(r.i); // in place, before a put: restored too
          ctx.state.seen.put('all', list);
          ctx.emit({ key: ctx.key, n: total.n });
          if (bad(2, 50, 51).has(r.i)) throw new Error('process');
          ctx.emit({ key: ctx.key, seen: ctx.state.seen.get('all')!.length });
        },
      })
      .sink('out', collect());
    expect(await engineMatchesReference(j.build(), 'out')).toEqual({ p: ids(2, 50, 51) });
  });
});

describe("windows skip a record whose own calls throw (onUserError: 'dead-letter')", () => {
  const count = { create: () => ({ n: 0, ids: [] as number[] }), merge: (a: { n: number; ids: number[] }, b: { n: number; ids: number[] }) => ({ n: a.n + b.n, ids: [...a.ids, ...b.ids] }) };
  const result = (a: { n: number; ids: number[] }, key: string, w: Window) => ({ key, w: `${w.start}-${w.end}`, n: a.n, ids: [...a.ids].sort((x, y) => x - y) });
  const timedIds = (...is: number[]) => is.map((i) => JSON.stringify({ i, key: `k${i % 3}` })).sort();

  it('sliding: an add that throws keeps the record out of all its windows', async () => {
    const j = job('dl-sliding', settings);
    const w = j
      .source('src', timed(), { parallelism: 1, watermarks: { outOfOrderness: 0 } })
      .keyBy((r) => r.key)
      .window(sliding(90, 30), { late: 'side-output' })
      .aggregate('win', {
        ...count,
        add: (a, r) => {
          a.ids.push(r.i); // in the copy: the windows keep their accumulators
          // Not in the record's newest window (empty so far), but in an older one after it.
          if (bad(10, 44).has(r.i) && a.n > 0) throw new Error('add');
          return { n: a.n + 1, ids: a.ids };
        },
        result,
      });
    w.sink('out', collect());
    w.lateRecords().sink('late', collect());
    expect(await engineMatchesReference(j.build(), 'out', 'late')).toEqual({ win: timedIds(10, 44) });
  });

  it('session: a merge that throws keeps the bridging record out, and the sessions apart', async () => {
    const j = job('dl-session', settings);
    // Records of a key are 30 apart; a gap of 25 keeps each alone, except i = 66 (key k0),
    // which comes at 615 (out of order, within the watermark's bound) and bridges 60 and 63.
    const events = generator({ count: N, batchSize: 5, make: (i): Rec => ({ i, key: `k${i % 3}` }), timestamp: (i) => (i === 66 ? 615 : i * 10) });
    const w = j
      .source('src', events, { parallelism: 1, watermarks: { outOfOrderness: 100 } })
      .keyBy((r) => r.key)
      .window(session(25))
      .aggregate('win', {
        ...count,
        add: (a, r) => ({ n: a.n + 1, ids: [...a.ids, r.i] }),
        merge: (a, b) => {
          if ([...a.ids, ...b.ids].some((i) => i === 60 || i === 63)) throw new Error('merge');
          return count.merge(a, b);
        },
        result,
      });
    w.sink('out', collect());
    expect(await engineMatchesReference(j.build(), 'out')).toEqual({ win: timedIds(66) });
  });

  it('a late record whose re-fire throws is in no window: later re-fires do not see it', async () => {
    const j = job('dl-refire', settings);
    // i = 100 comes at 500: its window [500, 600) fired long ago, within the allowed lateness.
    const events = generator({ count: N, batchSize: 5, make: (i): Rec => ({ i, key: 'k' }), timestamp: (i) => (i === 100 || i === 101 ? 500 + i - 100 : i * 10) });
    const w = j
      .source('src', events, { parallelism: 1, watermarks: { outOfOrderness: 0 } })
      .keyBy((r) => r.key)
      .window(tumbling(100), { allowedLateness: 1000 })
      .aggregate('win', {
        ...count,
        add: (a, r) => ({ n: a.n + 1, ids: [...a.ids, r.i] }),
        result: (a, key: string, win) => {
          if (a.ids.includes(100)) throw new Error('result');
          return result(a, key, win);
        },
      });
    w.sink('out', collect());
    const letters = await engineMatchesReference(j.build(), 'out');
    expect(letters).toEqual({ win: [JSON.stringify({ i: 100, key: 'k' })] });
  });

  it('a window firing on the watermark that throws ends the evaluation, as it fails the engine over', async () => {
    const j = job('dl-fire', settings);
    j.source('src', timed(), { parallelism: 1, watermarks: { outOfOrderness: 0 } })
      .keyBy((r) => r.key)
      .window(tumbling(100))
      .process('win', (key, w) => {
        if (w.start === 300) throw new Error(`window ${w.start} of ${key}`);
      })
      .sink('out', collect());
    await expect(evaluateSequentially(j.build())).rejects.toThrow('window 300 of k0');
  });
});

describe("with the default onUserError: 'fail'", () => {
  it('the evaluation throws the user function\'s own error and records no dead letters', async () => {
    const j = job('dl-default', { parallelism: 2 });
    const boom = new Error('boom');
    j.source('src', records())
      .map('m', (r) => {
        if (r.i === 9) throw boom;
        return r;
      })
      .sink('out', collect());
    await expect(evaluateSequentially(j.build())).rejects.toBe(boom);
  });

  it('without a throw the dead-letter mode evaluates exactly as the default', async () => {
    const build = (options: { onUserError?: 'dead-letter' }) => {
      const j = job('dl-same', { parallelism: 2, ...options });
      j.source('src', timed(), { parallelism: 1, watermarks: { outOfOrderness: 20 } })
        .keyBy((r) => r.key)
        .window(sliding(50, 20))
        .aggregate('win', { create: () => 0, add: (n: number) => n + 1, result: (n, key) => ({ key, n }) })
        .sink('out', collect());
      return j.build();
    };
    const plain = await evaluateSequentially(build({}));
    const skipping = await evaluateSequentially(build({ onUserError: 'dead-letter' }));
    expect(skipping.sinks).toEqual(plain.sinks);
    expect(skipping.deadLettered.size).toBe(0);
  });
});
