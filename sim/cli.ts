/**
 * `npm run sim -- --seeds N [--topology chain|rescale|fanin|tumbling|sliding|session|poison|all]
 *  [--mode exactly-once|at-least-once] [--from S] [--workers W] [--verbose]`
 * Runs seeds S..S+N-1 on each named topology (all of `TOPOLOGIES`, in order, by default; in
 * W worker threads) and ends with `simulation: R seeds, V violations`, R being the number of
 * runs; exit 1 when V > 0. `--verbose` prints every passing seed with its step count.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { SimResult } from './harness.js';
import { TOPOLOGIES } from './topologies.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    topology: { type: 'string', default: 'all' },
    mode: { type: 'string', default: 'exactly-once' },
    from: { type: 'string', default: '1' },
    workers: { type: 'string', default: String(Math.max(1, Math.min(4, os.availableParallelism()))) },
    verbose: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(`sim: ${message}`);
  process.exit(2);
}

const seeds = Number(values.seeds);
const from = Number(values.from);
const workers = Number(values.workers);
if (!Number.isInteger(seeds) || seeds < 1) fail(`--seeds must be a positive integer, got ${values.seeds}`);
if (!Number.isInteger(from)) fail(`--from must be an integer, got ${values.from}`);
if (!Number.isInteger(workers) || workers < 1) fail(`--workers must be a positive integer, got ${values.workers}`);
if (values.mode !== 'exactly-once' && values.mode !== 'at-least-once') fail(`--mode must be exactly-once or at-least-once, got ${values.mode}`);
const names = values.topology === 'all' ? Object.keys(TOPOLOGIES) : [values.topology!];
for (const n of names) if (!TOPOLOGIES[n]) fail(`unknown --topology ${n}; known: ${Object.keys(TOPOLOGIES).join(', ')}, all`);

const workerUrl = new URL('./worker.ts', import.meta.url).href;
const started = Date.now();
let runs = 0;
let violations = 0;
const totals: Record<string, number> = {};
for (const name of names) {
  const all = Array.from({ length: seeds }, (_, i) => from + i);
  const slices = Array.from({ length: Math.min(workers, seeds) }, (_, w) => all.filter((_, i) => i % workers === w));
  let done = 0;
  let bad = 0;
  await Promise.all(
    slices.map(
      (slice) =>
        new Promise<void>((resolve, reject) => {
          // A worker does not inherit tsx's loader: register it, then load the TypeScript worker.
          const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(workerUrl)}); })`;
          const worker = new Worker(bootstrap, { eval: true, workerData: { topology: name, seeds: slice, mode: values.mode } });
          worker.on('message', (result: SimResult) => {
            done++;
            runs++;
            for (const [k, v] of Object.entries(result.stats)) totals[k] = (totals[k] ?? 0) + v;
            if (result.violations.length > 0) {
              bad++;
              violations++;
              console.log(`VIOLATION ${name} seed ${result.seed}: ${result.violations.join(' | ')}`);
            } else if (values.verbose) {
              console.log(`ok ${name} seed ${result.seed} in ${result.steps} steps ${JSON.stringify(result.stats)}`);
            }
            if (process.stdout.isTTY && done % 100 === 0) process.stdout.write(`\r${name}: ${done}/${seeds} `);
          });
          worker.on('error', reject);
          worker.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
        }),
    ),
  );
  if (process.stdout.isTTY) process.stdout.write('\r');
  console.log(`${name}: ${seeds} seeds, ${bad} violations (${values.mode})`);
}
console.log(`faults injected: ${JSON.stringify(totals)}`);
console.log(`time: ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`simulation: ${runs} seeds, ${violations} violations`);
process.exit(violations > 0 ? 1 : 0);
