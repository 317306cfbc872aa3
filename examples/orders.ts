/**
 * Orders and their payments, in event time, over two shipped files
 * (examples/data/orders.ndjson and payments.ndjson, from make-orders.mjs):
 *
 *   - orders come from a Kinesis data stream (`tidemark run` creates it and puts the file's
 *     lines into it; deployed, the stack's stream named `orders`), payments from the log source;
 *   - an interval join pairs each order with a payment made within 30 minutes of it;
 *   - a connected process function records how long each order took to be paid, and times
 *     out the orders still unpaid 30 minutes on, with an event-time timer, to a side output;
 *   - each paid order is priced in EUR at the exchange rate in force when it was paid: rates
 *     are broadcast to every subtask and kept, with their versions, in broadcast state;
 *   - paid orders are written as Parquet, payment delays and unpaid orders as CSV, by the
 *     exactly-once S3 sink.
 *
 *   npx tidemark run examples/orders.ts --kill-rate 0.05
 *
 * Each input has one source subtask (and the stream one shard) and its records are never
 * further out of order than its watermarks allow: then which payment meets which order, and which orders time out, is
 * the same in every run as in the sequential evaluation `tidemark run` checks against.
 */
import { generator, job, kinesisSource, listState, logSource, mapState, outputTag, s3Sink, valueState } from '../lib/api/index.js';

interface Order {
  readonly id: number;
  readonly customer: string;
  readonly currency: string;
  readonly amount: number;
  readonly time: string;
}
interface Payment {
  readonly order: number;
  readonly amount: number;
  readonly time: string;
}
interface Rate {
  readonly currency: string;
  readonly toEur: number;
  readonly at: number;
}
interface Paid {
  readonly order: number;
  readonly customer: string;
  readonly currency: string;
  readonly amount: number;
  readonly paidAt: string;
}

const DEADLINE = 30 * 60_000;
const time = (iso: string) => Date.parse(iso);

const orders = job('orders', {
  parallelism: 2,
  checkpoints: { interval: 2000, timeout: 60_000, tolerableFailedCheckpoints: 2 },
  restartStrategy: { type: 'fixed-delay', attempts: 10, delay: 500 },
});

const placed = orders
  .source('orders', kinesisSource<Order>({ stream: 'orders', shards: 1, bounded: true, batchSize: 200, timestamp: (o) => time(o.time) }), {
    parallelism: 1,
    watermarks: { outOfOrderness: 30_000 },
  })
  .keyBy((o) => o.id);
const payments = orders
  .source('payments', logSource<Payment>({ log: 'payments', partitions: 1, batchSize: 200, bounded: true, timestamp: (p) => time(p.time) }), {
    parallelism: 1,
    watermarks: { outOfOrderness: 60_000 },
  })
  .keyBy((p) => p.order);

// Exchange rates to EUR, a new version per currency every 10 minutes (deterministic).
const versions: Rate[] = Array.from({ length: 18 * 3 }, (_, i) => ({
  currency: ['GBP', 'JPY', 'EUR'][i % 3]!,
  toEur: i % 3 === 2 ? 1 : i % 3 === 0 ? 1.16 + ((i * 7) % 11) / 1000 : 0.0061 + ((i * 5) % 7) / 100_000,
  at: time('2026-12-02T07:50:00Z') + Math.floor(i / 3) * 600_000,
}));
const rates = orders.source('rates', generator({ count: versions.length, batchSize: 3, make: (i) => versions[i]!, timestamp: (i) => versions[i]!.at }), {
  parallelism: 1,
  watermarks: { outOfOrderness: 0 },
});

const paid = placed
  .intervalJoin(payments)
  .between(0, DEADLINE)
  .process<Paid>('paid', (o, p, _ctx, emit) => emit({ order: o.id, customer: o.customer, currency: o.currency, amount: p.amount, paidAt: p.time }));

const unpaid = outputTag<Order>('unpaid');
const deadlines = placed.connect(payments).process('deadlines', {
  state: { order: valueState<Order>(), paid: valueState<Payment>() },
  sideOutputs: [unpaid],
  processElement1(order, ctx) {
    const payment = ctx.state.paid.value();
    if (payment) {
      ctx.state.paid.clear();
      return ctx.emit({ id: order.id, customer: order.customer, seconds: (time(payment.time) - time(order.time)) / 1000 });
    }
    ctx.state.order.update(order);
    ctx.timerService.registerEventTimeTimer(time(order.time) + DEADLINE);
  },
  processElement2(payment, ctx) {
    const order = ctx.state.order.value();
    if (order === undefined) return ctx.state.paid.update(payment);
    ctx.state.order.clear();
    ctx.timerService.deleteEventTimeTimer(time(order.time) + DEADLINE);
    ctx.emit({ id: order.id, customer: order.customer, seconds: (time(payment.time) - time(order.time)) / 1000 });
  },
  onTimer(_at, ctx) {
    const order = ctx.state.order.value();
    if (order !== undefined) ctx.output(unpaid, order);
    ctx.state.order.clear();
  },
});

const priced = paid
  .keyBy((p) => p.currency)
  .connect(rates.broadcast())
  .process('priced', {
    state: { waiting: listState<Paid>() },
    broadcastState: { rates: mapState<string, [number, number][]>() },
    processElement(p, ctx) {
      // Priced once the watermark reaches the payment: every rate up to it has arrived then.
      ctx.state.waiting.add(p);
      ctx.timerService.registerEventTimeTimer(time(p.paidAt));
    },
    processBroadcastElement(rate, ctx) {
      const known = ctx.broadcastState.rates.get(rate.currency) ?? [];
      ctx.broadcastState.rates.put(rate.currency, [...known, [rate.at, rate.toEur] as [number, number]].sort((a, b) => a[0] - b[0]));
    },
    onTimer(at, ctx) {
      const waiting = ctx.state.waiting.get();
      ctx.state.waiting.update(waiting.filter((p) => time(p.paidAt) !== at));
      const toEur = (ctx.broadcastState.rates.get(ctx.key) ?? []).filter(([from]) => from <= at).at(-1)?.[1] ?? null;
      for (const p of waiting.filter((w) => time(w.paidAt) === at)) {
        ctx.emit({ ...p, toEur, amountEur: toEur === null ? null : Math.round(p.amount * toEur * 100) / 100 });
      }
    },
  });

priced.sink(
  'paid-orders',
  s3Sink({
    prefix: 'output/paid/',
    format: 'parquet',
    columns: { order: 'int', customer: 'string', currency: 'string', amount: 'double', toEur: 'double', amountEur: 'double', paidAt: 'string' },
  }),
);
deadlines.sink('payment-delays', s3Sink<{ id: number; customer: string; seconds: number }>({ prefix: 'output/delays/', format: 'csv', columns: { id: 'int', customer: 'string', seconds: 'double' } }));
deadlines.getSideOutput(unpaid).sink('unpaid-orders', s3Sink<Order>({ prefix: 'output/unpaid/', format: 'csv', columns: { id: 'int', customer: 'string', currency: 'string', amount: 'double', time: 'string' } }));

export default orders;

/** Files `tidemark run` loads into the sources before starting, relative to this module. */
export const inputs = { orders: 'data/orders.ndjson', payments: 'data/payments.ndjson' };

export const describeResult = (records: unknown[]) => `${records.length} orders`;
