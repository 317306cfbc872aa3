/**
 * State time-to-live through the API: the option on every state kind, checked; the
 * evaluation's boundary (alive below t + ttl, gone at it); and the engine, restored at
 * another parallelism with stamped state and cleanup timers pending, answering as the
 * evaluation does.
 */
import { describe, expect, it } from 'vitest';
import { aggregatingState, collect, generator, job, listState, mapState, reducingState, valueState } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

/** Record i at time 10·i on key k(i mod 3), one per poll: the watermark at record i is 10·i − 11. */
function expiring(name: string, ttl: number, count = 60): JobGraph {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 } });
  j.source('src', generator({ count, batchSize: 1, make: (i) => i, timestamp: (i) => i * 10 }), { parallelism: 1, watermarks: { outOfOrderness: 0 } })
    .keyBy((i) => `k${i % 3}`)
    .process('p', {
      state: {
        last: valueState<number>({ ttl: { eventTime: ttl } }),
        sum: reducingState<number>((a, b) => a + b, { ttl: { eventTime: ttl } }),
        n: aggregatingState<number, number, number>({ create: () => 0, add: (a) => a + 1, result: (a) => a }, { ttl: { eventTime: ttl } }),
        seen: mapState<number, boolean>({ ttl: { eventTime: ttl } }),
        list: listState<number>({ ttl: { eventTime: ttl } }),
      },
      processElement(i, ctx) {
        ctx.emit({ i, last: ctx.state.last.value() ?? null, sum: ctx.state.sum.get() ?? null, n: ctx.state.n.get() ?? null, seen: ctx.state.seen.keys(), list: ctx.state.list.get() });
        ctx.state.last.update(i);
        ctx.state.sum.add(i);
        ctx.state.n.add(i);
        ctx.state.seen.put(i, true);
        ctx.state.list.add(i);
      },
    })
    .sink('out', collect());
  return j.build();
}

describe('state ttl (API)', () => {
  it('a key written every 30 ms keeps its state with a ttl of 20 and loses it with 19: gone once the watermark is t + ttl', async () => {
    // Record i reads what record i − 3 (its key's last) wrote at t = 10·i − 30, at watermark 10·i − 11 = t + 19.
    const out = async (ttl: number) => (await evaluateSequentially(expiring(`ttl-${ttl}`, ttl, 30))).sinks.get('out') as { i: number; last: number | null }[];
    const alive = (await out(20)).filter((r) => r.i >= 3);
    expect(alive.every((r) => r.last === r.i - 3)).toBe(true);
    const gone = (await out(19)).filter((r) => r.i >= 3);
    expect(gone.every((r) => r.last === null)).toBe(true);
  });

  it('restored at another parallelism, the engine reads what the evaluation reads', async () => {
    const graph = expiring('ttl-rescale', 45, 120);
    const expected = (await evaluateSequentially(graph)).sinks.get('out')!;
    const world = await memoryWorld(graph);
    for (let i = 0; i < 20; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { p: 3 } });
    await world.runToEnd();
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected));
  });

  it('refuses a ttl that is not a whole number of ms, an unknown updateOn, and a ttl on operator state', () => {
    const keyed = () => job('bad-ttl').source('src', generator({ count: 1, make: (i) => i })).keyBy((i) => i);
    const fn = { processElement() {} };
    expect(() => keyed().process('p', { state: { v: valueState<number>({ ttl: { eventTime: 0 } }) }, ...fn })).toThrow(ConfigError);
    expect(() => keyed().process('p', { state: { v: valueState<number>({ ttl: { eventTime: 1.5 } }) }, ...fn })).toThrow('operators.p.state.v.ttl.eventTime: must be a whole number of ms from 1, got 1.5');
    expect(() => keyed().process('p', { state: { v: valueState<number>({ ttl: { eventTime: 5, updateOn: 'never' as never } }) }, ...fn })).toThrow("operators.p.state.v.ttl.updateOn: must be 'write' or 'read-and-write'");
    const plain = job('bad-ttl-op').source('src', generator({ count: 1, make: (i) => i }));
    expect(() => plain.process('p', { state: { l: listState<number>({ ttl: { eventTime: 5 } }) }, ...fn })).toThrow('operators.p.state.l.ttl: is for keyed state');
  });
});
