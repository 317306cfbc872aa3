/**
 * The simulation's topologies of two-input operators: `connect`, a keyed two-input process
 * function matching orders with their payments through shared keyed state and timing out the
 * unpaid ones with a shared event-time timer, to a side output.
 *
 * Which records meet is made independent of how the two inputs interleave, so the sequential
 * evaluation (which reads the first input, then the second) gives the one right answer: each
 * input comes from one source subtask, orders at most `outOfOrderness` out of order and
 * payments in time order, and a payment is never later than its order's deadline. Then the
 * watermark on the payments' channel before a payment is below the payment's time, so below
 * the deadline: the payment always arrives before the order's timer can fire; and the
 * watermark before an order is below the order's time, so its timer is never already due.
 */
import { collect, generator, job, outputTag, valueState } from '../lib/api/index.js';
import { randomInt } from '../lib/core/rng.js';
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

export const TWO_INPUT_TOPOLOGIES: Record<string, SimTopology> = {
  connect: connect(),
};
