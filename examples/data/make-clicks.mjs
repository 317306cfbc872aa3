// Writes examples/data/clicks.ndjson: an hour of clicks by 24 users, a little out of order
// (up to 20 s), with a few clicks minutes late and three malformed lines. Deterministic:
// `node examples/data/make-clicks.mjs` always writes the same file.
import { writeFileSync } from 'node:fs';

let seed = 20261123;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
const start = Date.parse('2026-11-23T09:00:00Z');
const pages = ['/', '/pricing', '/docs', '/docs/windows', '/blog', '/signup'];
const lines = [];
let t = start;
for (let i = 0; i < 3000; i++) {
  t += Math.floor(random() * 2400);
  const user = `user-${String(Math.floor(random() ** 2 * 24)).padStart(2, '0')}`;
  let ts = t - Math.floor(random() * 20_000);
  if (i % 250 === 137) ts -= 4 * 60_000; // late: beyond the watermark and the allowed lateness
  lines.push(JSON.stringify({ user, page: pages[Math.floor(random() * pages.length)], time: new Date(ts).toISOString() }));
}
lines.splice(400, 0, '{"user": "user-03", "page": "/docs"');
lines.splice(1500, 0, JSON.stringify({ user: 'user-07', page: '/blog' }));
lines.splice(2600, 0, 'click user-11 /pricing');
writeFileSync(new URL('./clicks.ndjson', import.meta.url), lines.join('\n') + '\n');
