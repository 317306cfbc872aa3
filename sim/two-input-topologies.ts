/**
 * The simulation's topologies of two-input operators: `connect`, a keyed two-input process
 * function matching orders with their payments through shared keyed state and timing out the
 * unpaid ones with a shared event-time timer, to a side output; `interval-join` and
 * `window-join`, the joins, with bounds and windows drawn per seed; `broadcast-state`, orders
 * priced at the exchange rate in force at their time, rates broadcast from two subtasks.
 *
 * Which records meet is made independent of how the two inputs interleave, so the sequential
 * evaluation (which reads the first input, then the second) gives the one right answer: each
 * input comes from one source subtask, orders at most `outOfOrderness` out of order and
 * payments in time order, and a payment is never later than its order's deadline. Then the
 * watermark on the payments' channel before a payment is below the payment's time, so below
 * the deadline: the payment always arrives before the order's timer can fire; and the
 * watermark before an order is below the order's time, so its timer is never already due.
 * The joins' inputs likewise are never behind their own channel's watermark, so no record
 * is late, whatever the other input's progress: the pairs that meet are fixed. Broadcast
 * state is read when an order's timer fires, when every rate up to the order's time has
 * reached every subtask; the rates keep their versions, so one that came early (or from the
 * other broadcast subtask first) changes nothing.
 */
import { collect, generator, job, listState, mapState, outputTag, session, sliding, tumbling, valueState, type Window } from '../lib/api/index.js';
import { randomInt, type Random } from '../lib/core/rng.js';
import { settings, type SimTopology } from './topology-support.js';

interface Order {
  readonly order: number;
  readonly amount: number;
  readonly ts: number;
}
interface Payment {
  readonly order: number;
  readonly paid: number;
  readonly ts: number;
}

function connect(): SimTopology {
  const json = (records: unknown[]) => records.map((r) => JSON.stringify(r));
  return {
    name: 'connect',
    sinks: ['out', 'unpaid'],
    rescale: [{ match: 3 }, { match: 1 }],
    build({ mode, random }) {
      const j = job('simconnect', { ...settings(mode, random), parallelism: 2 });
      const outOfOrderness = randomInt(random, 0, 40);
      const timeout = randomInt(random, 50, 300);
      const count = randomInt(random, 30, 100);
      const orders: Order[] = Array.from({ length: count }, (_, i) => ({ order: i, amount: randomInt(random, 1, 500), ts: i * 20 + randomInt(random, 0, outOfOrderness) }));
      const payments: Payment[] = orders
        .filter(() => randomInt(random, 0, 9) < 7)
        .map((o) => ({ order: o.order, paid: o.amount, ts: o.ts + randomInt(random, 0, timeout) }))
        .sort((a, b) => a.ts - b.ts || a.order - b.order);
      const unpaid = outputTag<Order & { timedOut: number }>('unpaid');
      const watermarks = { outOfOrderness };
      const source = <T extends { ts: number }>(records: T[]) =>
        generator({ count: records.length, batchSize: randomInt(random, 1, 4), make: (i) => records[i]!, timestamp: (i) => records[i]!.ts });
      const orderStream = j.source('orders', source(orders), { parallelism: 1, watermarks }).keyBy((o) => o.order);
      const paymentStream = j.source('payments', source(payments), { parallelism: 1, watermarks }).keyBy((p) => p.order);
      const matched = orderStream.connect(paymentStream).process('match', {
        state: { order: valueState<Order>(), payment: valueState<Payment>() },
        sideOutputs: [unpaid],
        processElement1(order, ctx) {
          const payment = ctx.state.payment.value();
          if (payment === undefined) {
            ctx.state.order.update(order);
            ctx.timerService.registerEventTimeTimer(order.ts + timeout);
            return;
          }
          ctx.state.payment.clear();
          ctx.emit({ order: order.order, amount: order.amount, paid: payment.paid, at: payment.ts });
        },
        processElement2(payment, ctx) {
          const order = ctx.state.order.value();
          if (order === undefined) return ctx.state.payment.update(payment);
          ctx.state.order.clear();
          ctx.timerService.deleteEventTimeTimer(order.ts + timeout);
          ctx.emit({ order: order.order, amount: order.amount, paid: payment.paid, at: payment.ts });
        },
        onTimer(at, ctx) {
          const order = ctx.state.order.value();
          if (order !== undefined) ctx.output(unpaid, { ...order, timedOut: at });
          ctx.state.order.clear();
        },
      });
      matched.sink('out', collect());
      matched.getSideOutput(unpaid).sink('unpaid', collect(), { parallelism: 1 });
      return { graph: j.build() };
    },
    canonical: json,
    // Replays may emit a match again, or time out an order replayed after its match; never lose one.
    atLeastOnce(expected, actual) {
      const have = new Set(json(actual));
      return json(expected).filter((r) => !have.has(r)).map((r) => `missing ${r}`);
    },
  };
}

interface Keyed {
  readonly id: string;
  readonly key: string;
  readonly ts: number;
}

/** `count` records of keys k0..k3, `step` ms apart, each up to `outOfOrderness` ms late. */
function keyedRecords(random: Random, side: string, count: number, step: number, outOfOrderness: number): Keyed[] {
  return Array.from({ length: count }, (_, i) => ({ id: `${side}${i}`, key: `k${randomInt(random, 0, 3)}`, ts: i * step + randomInt(random, 0, outOfOrderness) }));
}

/** A source of keyed records, one subtask, with watermarks. */
function keyedSource(j: ReturnType<typeof job>, random: Random, name: string, side: string, outOfOrderness: number) {
  const records = keyedRecords(random, side, randomInt(random, 20, 70), randomInt(random, 10, 40), outOfOrderness);
  const reader = generator({ count: records.length, batchSize: randomInt(random, 1, 4), make: (i) => records[i]!, timestamp: (i) => records[i]!.ts });
  return j.source(name, reader, { parallelism: 1, watermarks: { outOfOrderness } });
}

/** Two such sources: what both joins read. */
function twoSources(j: ReturnType<typeof job>, random: Random) {
  const outOfOrderness = randomInt(random, 0, 60);
  return { left: keyedSource(j, random, 'lefts', 'l', outOfOrderness), right: keyedSource(j, random, 'rights', 'r', outOfOrderness) };
}

/** Pairs are compared whole; a replay may emit a pair again, never lose one. */
const pairs = (name: string, build: SimTopology['build'], rescale: SimTopology['rescale']): SimTopology => {
  const json = (records: unknown[]) => records.map((r) => JSON.stringify(r));
  return {
    name,
    sinks: ['out'],
    rescale,
    build,
    canonical: json,
    atLeastOnce(expected, actual) {
      const have = new Set(json(actual));
      return json(expected).filter((r) => !have.has(r)).map((r) => `missing ${r}`);
    },
  };
};

const intervalJoin = pairs(
  'interval-join',
  ({ mode, random }) => {
    const j = job('simintervaljoin', { ...settings(mode, random), parallelism: 2 });
    const { left, right } = twoSources(j, random);
    const lower = randomInt(random, -100, 50);
    let joined = left.keyBy((l) => l.key).intervalJoin(right.keyBy((r) => r.key)).between(lower, lower + randomInt(random, 2, 150));
    if (randomInt(random, 0, 1) === 1) joined = joined.lowerBoundExclusive();
    if (randomInt(random, 0, 1) === 1) joined = joined.upperBoundExclusive();
    joined.process('join', (l, r, ctx, emit) => emit({ l: l.id, r: r.id, key: ctx.key, at: ctx.timestamp })).sink('out', collect());
    return { graph: j.build() };
  },
  [{ join: 3 }, { join: 1 }],
);

const windowJoin = pairs(
  'window-join',
  ({ mode, random }) => {
    const j = job('simwindowjoin', { ...settings(mode, random), parallelism: 2 });
    const { left, right } = twoSources(j, random);
    const size = randomInt(random, 2, 6) * 50;
    const assigners = [tumbling(size), sliding(size * 2, size), session(randomInt(random, 20, 80))];
    left
      .join(right)
      .where((l) => l.key)
      .equalTo((r) => r.key)
      .window(assigners[randomInt(random, 0, 2)]!)
      .apply('joined', (l, r, w: Window) => ({ l: l.id, r: r.id, window: `${l.key}@${w.start}-${w.end}` }))
      .sink('out', collect());
    return { graph: j.build() };
  },
  [{ joined: 3 }, { joined: 1 }],
);

interface Rate {
  readonly currency: string;
  readonly rate: number;
  readonly ts: number;
}
interface Priced {
  readonly id: string;
  readonly rate: number | null;
}

const broadcastState: SimTopology = {
  ...pairs(
    'broadcast-state',
    ({ mode, random }) => {
      const j = job('simbroadcaststate', { ...settings(mode, random), parallelism: 2 });
      const orders = keyedSource(j, random, 'orders', 'o', randomInt(random, 0, 60));
      const step = randomInt(random, 20, 80);
      const rates: Rate[] = Array.from({ length: randomInt(random, 5, 40) }, (_, i) => ({ currency: `k${randomInt(random, 0, 3)}`, rate: randomInt(random, 1, 1000), ts: i * step }));
      const rateStream = j.source('rates', generator({ count: rates.length, batchSize: randomInt(random, 1, 3), make: (i) => rates[i]!, timestamp: (i) => rates[i]!.ts }), {
        parallelism: 2,
        watermarks: { outOfOrderness: 0 },
      });
      orders
        .keyBy((o) => o.key)
        .connect(rateStream.broadcast())
        .process('price', {
          state: { waiting: listState<{ id: string; ts: number }>(), priced: valueState<number>() },
          broadcastState: { versions: mapState<string, [number, number][]>() },
          processElement(order, ctx) {
            ctx.state.waiting.add({ id: order.id, ts: order.ts });
            ctx.timerService.registerEventTimeTimer(order.ts);
          },
          processBroadcastElement(rate, ctx) {
            const versions = [...(ctx.broadcastState.versions.get(rate.currency) ?? []), [rate.ts, rate.rate] as [number, number]];
            ctx.broadcastState.versions.put(rate.currency, versions.sort((a, b) => a[0] - b[0]));
          },
          onTimer(at, ctx) {
            const waiting = ctx.state.waiting.get();
            ctx.state.waiting.update(waiting.filter((o) => o.ts !== at));
            const rate = (ctx.broadcastState.versions.get(ctx.key) ?? []).filter(([ts]) => ts <= at).at(-1)?.[1] ?? null;
            for (const o of waiting.filter((w) => w.ts === at)) {
              ctx.state.priced.update((ctx.state.priced.value() ?? 0) + 1);
              ctx.emit({ id: o.id, rate, n: ctx.state.priced.value() });
            }
          },
        })
        .sink('out', collect());
      return { graph: j.build() };
    },
    [{ price: 3 }, { price: 1 }],
  ),
  // A replay may price an order again (and count it again), never lose one.
  atLeastOnce(expected, actual) {
    const key = (r: unknown) => `${(r as Priced).id}@${(r as Priced).rate}`;
    const have = new Set(actual.map(key));
    return expected.map(key).filter((k) => !have.has(k)).map((k) => `missing ${k}`);
  },
};

export const TWO_INPUT_TOPOLOGIES: Record<string, SimTopology> = {
  'broadcast-state': broadcastState,
  connect: connect(),
  'interval-join': intervalJoin,
  'window-join': windowJoin,
};
