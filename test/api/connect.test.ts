/**
 * Connected keyed streams (Flink's connect + KeyedCoProcessFunction): each input's records
 * reach their own function, both share the key's state and timers, a side output and a
 * restore at another parallelism work as for one input, and a bad connect is a ConfigError
 * naming what is wrong. The engine must commit what the sequential evaluation gives.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, outputTag, valueState, type ValueStateDescriptor } from '../../lib/api/index.js';
import type { KeyedCoProcessFunction } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Order {
  readonly order: number;
  readonly amount: number;
}
interface Payment {
  readonly order: number;
  readonly paid: number;
}
interface Matched {
  readonly order: number;
  readonly amount: number;
  readonly paid: number;
}

const unpaid = outputTag<Order>('unpaid');
type State = { order: ValueStateDescriptor<Order>; payment: ValueStateDescriptor<Payment> };

/**
 * Orders 0..n-1 at event time 10·i; payments for every order but each fifth, at 10·i + 5 (in
 * time for the order's deadline at 10·i + 30). Whichever side arrives first waits in state
 * for the other; an order's timer at its deadline sends it, still unpaid, to a side output.
 */
const matcher: KeyedCoProcessFunction<Order, Payment, number, State, Matched> = {
  state: { order: valueState<Order>(), payment: valueState<Payment>() },
  sideOutputs: [unpaid],
  processElement1(order, ctx) {
    const payment = ctx.state.payment.value();
    if (payment) {
      ctx.state.payment.clear();
      return ctx.emit({ order: order.order, amount: order.amount, paid: payment.paid });
    }
    ctx.state.order.update(order);
    ctx.timerService.registerEventTimeTimer(order.order * 10 + 30);
  },
  processElement2(payment, ctx) {
    const order = ctx.state.order.value();
    if (!order) return ctx.state.payment.update(payment);
    ctx.state.order.clear();
    ctx.timerService.deleteEventTimeTimer(order.order * 10 + 30);
    ctx.emit({ order: order.order, amount: order.amount, paid: payment.paid });
  },
  onTimer(_at, ctx) {
    const order = ctx.state.order.value();
    if (order) ctx.output(unpaid, order);
    ctx.state.order.clear();
  },
};

function matching(name: string, count: number, paymentsBatch = 3): JobGraph {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 } });
  const watermarks = { outOfOrderness: 0 };
  const orders = j
    .source('orders', generator({ count, batchSize: 2, make: (i): Order => ({ order: i, amount: i * 3 }), timestamp: (i) => i * 10 }), { parallelism: 1, watermarks })
    .keyBy((o) => o.order);
  const paying = Array.from({ length: count }, (_, i) => i).filter((i) => i % 5 !== 0);
  const payments = j
    .source('payments', generator({ count: paying.length, batchSize: paymentsBatch, make: (i): Payment => ({ order: paying[i]!, paid: paying[i]! * 3 }), timestamp: (i) => paying[i]! * 10 + 5 }), {
      parallelism: 1,
      watermarks,
    })
    .keyBy((p) => p.order);
  const matched = orders.connect(payments).process('match', matcher);
  matched.sink('out', collect());
  matched.getSideOutput(unpaid).sink('unpaid', collect());
  return j.build();
}

describe('connect: a keyed two-input process function', () => {
  it('matches each side with the other through shared keyed state, and times out the unmatched with a shared timer', async () => {
    const graph = matching('match', 30);
    const result = await evaluateSequentially(graph);
    const out = result.sinks.get('out') as Matched[];
    expect(sorted(out)).toEqual(sorted(Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 5 !== 0).map((i) => ({ order: i, amount: i * 3, paid: i * 3 }))));
    expect((result.sinks.get('unpaid') as Order[]).map((o) => o.order).sort((a, b) => a - b)).toEqual([0, 5, 10, 15, 20, 25]);
    const world = await memoryWorld(graph);
    await world.runToEnd();
    expect(sorted(await world.committed('out'))).toEqual(sorted(out));
    expect(sorted(await world.committed('unpaid'))).toEqual(sorted(result.sinks.get('unpaid')!));
  });

  it('restored at another parallelism with both sides waiting in state, the engine gives what the evaluation gives', async () => {
    const graph = matching('match-rescale', 120, 1);
    const expected = await evaluateSequentially(graph);
    const world = await memoryWorld(graph);
    for (let i = 0; i < 25; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { match: 3, unpaid: 3 } });
    await world.runToEnd();
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected.sinks.get('out')!));
    expect(sorted(await world.committed('unpaid'))).toEqual(sorted(expected.sinks.get('unpaid')!));
  });

  it('a bad connect is a ConfigError naming it', () => {
    const j = job('bad-connect');
    const a = j.source('a', generator({ count: 1, make: (i) => i })).keyBy((i) => i);
    const b = j.source('b', generator({ count: 1, make: (i) => i }));
    expect(() => a.connect(b as never)).toThrow(ConfigError);
    expect(() => a.connect(b as never)).toThrow('call keyBy() or broadcast() on the other stream first');
    expect(() => a.connect(b.keyBy((i) => i)).process('p', { state: {}, processElement1() {} } as never)).toThrow('operators.p.processElement2');
    const other = job('other').source('c', generator({ count: 1, make: (i) => i })).keyBy((i) => i);
    expect(() => a.connect(other)).toThrow('streams belong to different jobs');
    const self = job('self');
    const s = self.source('s', generator({ count: 1, make: (i) => i })).keyBy((i) => i);
    s.connect(s).process('p', { state: {}, processElement1() {}, processElement2() {} }).sink('out', collect());
    expect(() => self.build()).toThrow('reads s twice; connect two different streams');
  });
});
