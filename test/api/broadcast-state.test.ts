/**
 * Broadcast state (Flink's broadcast state pattern): a keyed stream connected to a
 * broadcast() stream. Every subtask gets every broadcast record; the keyed side reads the
 * state the broadcast side writes; the state is snapshotted and copied to new subtasks on a
 * restore at another parallelism; the broadcast side has no key; a bad declaration is a
 * ConfigError. The engine must commit what the sequential evaluation gives.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, listState, mapState, valueState } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Rate {
  readonly currency: string;
  readonly rate: number;
  readonly ts: number;
}
interface Order {
  readonly id: number;
  readonly currency: string;
  readonly amount: number;
  readonly ts: number;
}

const currencies = ['eur', 'gbp', 'jpy'];
const rates: Rate[] = Array.from({ length: 30 }, (_, i) => ({ currency: currencies[i % 3]!, rate: 100 + i, ts: i * 40 }));
const orders: Order[] = Array.from({ length: 120 }, (_, i) => ({ id: i, currency: currencies[(i * 7) % 3]!, amount: i + 1, ts: 5 + i * 10 }));

/** The rate in force at `ts`: the last version at or before it. */
const rateAt = (currency: string, ts: number) => rates.filter((r) => r.currency === currency && r.ts <= ts).at(-1)?.rate ?? null;

/**
 * Orders priced at the rate in force at their time (a temporal join on broadcast state): an
 * order waits for the watermark to reach its time, when every rate up to it has arrived at
 * every subtask; rates keep their versions, so one that came early changes nothing.
 */
function pricing(name: string, ratesParallelism = 2): JobGraph {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 } });
  const watermarks = { outOfOrderness: 0 };
  const rateStream = j.source('rates', generator({ count: rates.length, batchSize: 2, make: (i) => rates[i]!, timestamp: (i) => rates[i]!.ts }), {
    parallelism: ratesParallelism,
    watermarks,
  });
  j.source('orders', generator({ count: orders.length, batchSize: 3, make: (i) => orders[i]!, timestamp: (i) => orders[i]!.ts }), { parallelism: 1, watermarks })
    .keyBy((o) => o.currency)
    .connect(rateStream.broadcast())
    .process('price', {
      state: { waiting: listState<Order>(), priced: valueState<number>() },
      broadcastState: { versions: mapState<string, [number, number][]>() },
      processElement(order, ctx) {
        ctx.state.waiting.add(order);
        ctx.timerService.registerEventTimeTimer(order.ts);
      },
      processBroadcastElement(rate, ctx) {
        const versions = ctx.broadcastState.versions.get(rate.currency) ?? [];
        ctx.broadcastState.versions.put(rate.currency, [...versions, [rate.ts, rate.rate] as [number, number]].sort((a, b) => a[0] - b[0]));
      },
      onTimer(at, ctx) {
        const due = ctx.state.waiting.get().filter((o) => o.ts === at);
        ctx.state.waiting.update(ctx.state.waiting.get().filter((o) => o.ts !== at));
        const versions = ctx.broadcastState.versions.get(ctx.key) ?? [];
        for (const o of due) {
          const rate = versions.filter(([ts]) => ts <= at).at(-1)?.[1] ?? null;
          ctx.state.priced.update((ctx.state.priced.value() ?? 0) + 1);
          ctx.emit({ id: o.id, rate, n: ctx.state.priced.value() });
        }
      },
    })
    .sink('out', collect());
  return j.build();
}

const expectedPrices = () => orders.map((o) => ({ id: o.id, rate: rateAt(o.currency, o.ts) }));
const prices = (records: unknown[]) => sorted((records as { id: number; rate: number | null }[]).map(({ id, rate }) => ({ id, rate })));

describe('broadcast state', () => {
  it('the keyed side reads what the broadcast side wrote: each order at the rate in force at its time', async () => {
    const graph = pricing('pricing');
    const expected = await evaluateSequentially(graph);
    expect(prices(expected.sinks.get('out')!)).toEqual(sorted(expectedPrices()));
    const world = await memoryWorld(graph);
    await world.runToEnd();
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected.sinks.get('out')!));
  });

  it.each([[{ price: 3 }], [{ price: 1 }]])('restored at parallelism %j, every new subtask has the broadcast state', async (parallelism) => {
    const graph = pricing(`pricing-${parallelism.price}`);
    const world = await memoryWorld(graph);
    for (let i = 0; i < 15; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism });
    await world.runToEnd();
    expect(prices(await world.committed('out'))).toEqual(sorted(expectedPrices()));
  });

  it('every subtask gets every broadcast record', async () => {
    const j = job('everyone', { parallelism: 3, checkpoints: { interval: 300 } });
    j.source('keys', generator({ count: 6, make: (i) => i }), { parallelism: 1 })
      .keyBy((i) => i)
      .connect(j.source('all', generator({ count: 5, make: (i) => `b${i}` }), { parallelism: 1 }).broadcast())
      .process('seen', {
        state: {},
        broadcastState: { seen: mapState<string, boolean>() },
        processElement() {},
        processBroadcastElement(b, ctx) {
          ctx.broadcastState.seen.put(b, true);
          ctx.emit(`${b}:${ctx.broadcastState.seen.keys().length}`);
        },
      })
      .sink('out', collect());
    const graph = j.build();
    const expected = (await evaluateSequentially(graph)).sinks.get('out')!;
    expect(sorted(expected)).toEqual(sorted([0, 1, 2].flatMap(() => [0, 1, 2, 3, 4].map((i) => `b${i}:${i + 1}`))));
    const world = await memoryWorld(graph);
    await world.runToEnd();
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected));
  });

  it('the broadcast side has no key: keyed state and timers there are the function\'s error', async () => {
    const build = (touch: 'state' | 'timer') => {
      const j = job(`nokey-${touch}`, { parallelism: 1 });
      j.source('keys', generator({ count: 2, make: (i) => i }))
        .keyBy((i) => i)
        .connect(j.source('all', generator({ count: 1, make: (i) => i })).broadcast())
        .process('p', {
          state: { n: valueState<number>() },
          broadcastState: { b: mapState<string, number>() },
          processElement() {},
          processBroadcastElement(_b, ctx) {
            if (touch === 'state') (ctx as unknown as { state: { n: { value(): unknown } } }).state.n.value();
            else (ctx as unknown as { timerService: { registerEventTimeTimer(t: number): void } }).timerService.registerEventTimeTimer(5);
          },
        })
        .sink('out', collect());
      return j.build();
    };
    await expect(evaluateSequentially(build('state'))).rejects.toThrow('processBroadcastElement has no key: keyed state belong to processElement and onTimer');
    await expect(evaluateSequentially(build('timer'))).rejects.toThrow('processBroadcastElement has no key: timers belong');
    const world = await memoryWorld(build('state'));
    await expect(world.runToEnd()).rejects.toThrow('processBroadcastElement has no key');
  });

  it('refuses broadcast state that is not a map, a function without it, and a plain stream to connect', () => {
    const j = job('bad-broadcast');
    const keyed = j.source('a', generator({ count: 1, make: (i) => i })).keyBy((i) => i);
    const all = j.source('b', generator({ count: 1, make: (i) => i }));
    const fns = { state: {}, processElement() {}, processBroadcastElement() {} };
    expect(() => keyed.connect(all.broadcast()).process('p', { ...fns, broadcastState: { b: valueState<number>() as never } })).toThrow(ConfigError);
    expect(() => keyed.connect(all.broadcast()).process('p', { ...fns, broadcastState: { b: valueState<number>() as never } })).toThrow('operators.p.broadcastState.b: must be mapState()');
    expect(() => keyed.connect(all.broadcast()).process('p', { ...fns, broadcastState: {} })).toThrow('operators.p.broadcastState: declares no state');
    expect(() => keyed.connect(all as never)).toThrow('call keyBy() or broadcast() on the other stream first');
  });
});
