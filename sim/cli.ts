/**
 * `npm run sim -- --seeds N [--topology chain|rescale|fanin|all] [--mode exactly-once|at-least-once] [--from S]`
 * Runs N seeds per topology and ends with `simulation: N seeds, V violations` (exit 1 if V > 0).
 */
import { parseArgs } from 'node:util';
import type { CheckpointMode } from '../lib/core/config.js';
import { runSimulation } from './harness.js';
import { TOPOLOGIES } from './topologies.js';

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '100' },
    topology: { type: 'string', default: 'all' },
    mode: { type: 'string', default: 'exactly-once' },
    from: { type: 'string', default: '1' },
    verbose: { type: 'boolean', default: false },
  },
});

function fail(message: string): never {
  console.error(`sim: ${message}`);
  process.exit(2);
}

const seeds = Number(values.seeds);
const from = Number(values.from);
if (!Number.isInteger(seeds) || seeds < 1) fail(`--seeds must be a positive integer, got ${values.seeds}`);
if (!Number.isInteger(from)) fail(`--from must be an integer, got ${values.from}`);
if (values.mode !== 'exactly-once' && values.mode !== 'at-least-once') fail(`--mode must be exactly-once or at-least-once, got ${values.mode}`);
const names = values.topology === 'all' ? Object.keys(TOPOLOGIES) : [values.topology!];
for (const n of names) if (!TOPOLOGIES[n]) fail(`unknown --topology ${n}; known: ${Object.keys(TOPOLOGIES).join(', ')}, all`);

let runs = 0;
let violations = 0;
const started = Date.now();
const totals: Record<string, number> = {};
for (const name of names) {
  for (let seed = from; seed < from + seeds; seed++) {
    const result = await runSimulation({ topology: TOPOLOGIES[name]!, seed, mode: values.mode as CheckpointMode });
    runs++;
    for (const [k, v] of Object.entries(result.stats)) totals[k] = (totals[k] ?? 0) + v;
    if (result.violations.length > 0) {
      violations++;
      console.log(`VIOLATION ${name} seed ${seed}: ${result.violations.join(' | ')}`);
    } else if (values.verbose) {
      console.log(`ok ${name} seed ${seed} in ${result.steps} steps ${JSON.stringify(result.stats)}`);
    }
    if (process.stdout.isTTY && runs % 50 === 0) process.stdout.write(`\r${runs} runs, ${violations} violations, ${((Date.now() - started) / 1000).toFixed(0)} s `);
  }
}
if (process.stdout.isTTY) process.stdout.write('\r');
console.log(`faults injected: ${JSON.stringify(totals)}`);
console.log(`simulation: ${runs} seeds, ${violations} violations`);
process.exit(violations > 0 ? 1 : 0);
