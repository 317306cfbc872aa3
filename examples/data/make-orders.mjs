// Writes examples/data/orders.ndjson and payments.ndjson: two hours of orders by 40
// customers in three currencies, a little out of order (up to 20 s), and a payment for most
// of them 1 s to 25 min after the order (some never paid). Deterministic: `node
// examples/data/make-orders.mjs` always writes the same files.
import { writeFileSync } from 'node:fs';

let seed = 20261202;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const start = Date.parse('2026-12-02T08:00:00Z');
const currencies = ['EUR', 'GBP', 'JPY'];
const orders = [];
const payments = [];
let t = start;
for (let id = 1; id <= 2400; id++) {
  t += Math.floor(random() * 6000);
  const time = t - Math.floor(random() * 20_000);
  const currency = currencies[Math.floor(random() * 3)];
  const amount = Math.round((5 + random() * 495) * 100) / 100;
  orders.push({ id, customer: `c-${String(Math.floor(random() * 40)).padStart(2, '0')}`, currency, amount, time: new Date(time).toISOString() });
  if (random() < 0.88) payments.push({ order: id, amount, time: new Date(time + 1000 + Math.floor(random() * 25 * 60_000)).toISOString() });
}
// Payments arrive in the order they were made, a little out of order.
payments.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
for (let i = 1; i < payments.length; i += 7) [payments[i - 1], payments[i]] = [payments[i], payments[i - 1]];
const write = (name, rows) => writeFileSync(new URL(`./${name}`, import.meta.url), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
write('orders.ndjson', orders);
write('payments.ndjson', payments);
