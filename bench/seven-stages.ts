/**
 * The seven-stage job of `npm run bench:local`: the shape that, on moto, took 5–19 minutes
 * with up to 7 of 12 checkpoints expiring. 30,000 order lines (JSON text, generated
 * deterministically) are parsed and fanned out by three keys into event-time windows, one
 * window feeding another, and four sinks of three kinds. Run it on its own with
 *
 *   node bin/tidemark.mjs run bench/seven-stages.ts [--memory]
 *
 * Stages after chaining (keyBy and a change of parallelism cut a chain, and so does an
 * operator whose output has two consumers):
 *   1 lines → parse → paid           2 user-sessions → sessions (s3)
 *   3 product-minutes                4 product-minutes-out (s3)
 *   5 category-5min → category-totals (dynamodb)
 *   6 region-sliding                 7 region-out (collect, parallelism 1)
 *
 * Every line is at most 20 s out of order within its source subtask, under the watermarks'
 * 30 s: no record is late, so which windows fire does not depend on how the two source
 * subtasks interleave, and the sequential evaluation is the one right answer. Window
 * functions only add, so their results do not depend on arrival order either.
 */
import { collect, dynamoSink, generator, job, s3Sink, session, sliding, tumbling, type Window } from '../lib/api/index.js';

interface Order {
  readonly user: string;
  readonly product: string;
  readonly category: string;
  readonly region: string;
  readonly cents: number;
  readonly status: 'paid' | 'cancelled';
  readonly time: string;
}

/** `--records N` (TIDEMARK_RECORDS) overrides the number of lines, as in the examples. */
export const LINES = Number(process.env.TIDEMARK_RECORDS ?? 30_000);

const START = Date.parse('2026-11-23T09:00:00Z');
const CATEGORIES = ['books', 'garden', 'kitchen', 'music', 'outdoor', 'toys', 'tools', 'video'];
const REGIONS = ['eu-north', 'eu-south', 'us-east', 'us-west', 'ap-east'];

/** One line every 100 ms of event time, up to 20 s early: 30k lines span 50 minutes. */
const eventTime = (index: number) => START + index * 100 - ((index * 7919) % 20_000);

/**
 * The active users drift: each 5-minute phase draws mostly from its own 40 of 200 users,
 * so users have several sessions with gaps between them.
 */
function line(index: number, random: () => number): string {
  const phase = Math.floor((index * 100) / 300_000);
  const user = `user-${String((phase * 37 + Math.floor(random() * 40)) % 200).padStart(3, '0')}`;
  const p = Math.floor(random() ** 2 * 48);
  const order: Order = {
    user,
    product: `product-${String(p).padStart(2, '0')}`,
    category: CATEGORIES[p % CATEGORIES.length]!,
    region: REGIONS[Math.floor(random() * REGIONS.length)]!,
    cents: 100 + Math.floor(random() * 9900),
    status: random() < 0.05 ? 'cancelled' : 'paid',
    time: new Date(eventTime(index)).toISOString(),
  };
  return JSON.stringify(order);
}

const sevenStages = job('seven-stages', {
  parallelism: 2,
  checkpoints: { interval: 2000, timeout: 60_000, tolerableFailedCheckpoints: 2 },
  restartStrategy: { type: 'fixed-delay', attempts: 10, delay: 500 },
});

const paid = sevenStages
  .source('lines', generator({ count: LINES, batchSize: 250, make: line, timestamp: eventTime }), { watermarks: { outOfOrderness: 30_000 } })
  .map('parse', (l) => JSON.parse(l) as Order)
  .filter('paid', (o) => o.status === 'paid');

const span = (w: Window) => ({ start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() });
const tally = { create: () => ({ orders: 0, cents: 0 }), merge: (a: Tally, b: Tally) => ({ orders: a.orders + b.orders, cents: a.cents + b.cents }) };
interface Tally {
  readonly orders: number;
  readonly cents: number;
}
const addOrder = (a: Tally, o: Order): Tally => ({ orders: a.orders + 1, cents: a.cents + o.cents });

paid
  .keyBy((o) => o.user)
  .window(session(3 * 60_000))
  .aggregate('user-sessions', { ...tally, add: addOrder, result: (a, user, w) => ({ user, ...span(w), ...a }) })
  .sink('sessions', s3Sink({ prefix: 'output/sessions/' }));

const productMinutes = paid
  .keyBy((o) => o.product)
  .window(tumbling(60_000))
  .aggregate('product-minutes', {
    ...tally,
    add: addOrder,
    result: (a, product, w) => ({ product, category: CATEGORIES[Number(product.slice(-2)) % CATEGORIES.length]!, ...span(w), ...a }),
  });
productMinutes.sink('product-minutes-out', s3Sink({ prefix: 'output/product-minutes/' }));

// A window over window results: each minute's result carries its window's last millisecond
// as its timestamp, so it falls in the 5-minute window that contains that minute.
productMinutes
  .keyBy((m) => m.category)
  .window(tumbling(5 * 60_000))
  .aggregate('category-5min', {
    ...tally,
    add: (a: Tally, m: Tally) => tally.merge(a, m),
    result: (a, category, w) => ({ category, ...span(w), ...a }),
  })
  .sink('category-totals', dynamoSink({ key: (r) => `${r.category}/${r.start}` }));

paid
  .keyBy((o) => o.region)
  .window(sliding(10 * 60_000, 2 * 60_000))
  .aggregate('region-sliding', { ...tally, add: addOrder, result: (a, region, w) => ({ region, ...span(w), ...a }) })
  .sink('region-out', collect(), { parallelism: 1 });

export default sevenStages;

export const describeResult = (records: unknown[]) => `${records.length} window results`;
