/**
 * What faults cost (`npm run bench:faults`): each example run by `tidemark run --json` on the
 * emulator, clean and then with every kind of wire fault at 2 % plus 5 % killed invocations,
 * and word count once more with lost responses alone at 10 %. Each run is its own process
 * (its own emulator), one after the other, so the ratios come from one sitting on one
 * machine. Reported per run: job time, checkpoints completed, restarts (failovers: a lost
 * response must cause none), faults injected, and the exactly-once verdict. Last line: JSON.
 *
 *   BENCH_FAULTS_SEED  wire-fault seed (default 1)
 *   BENCH_FAULTS_ONLY  comma-separated example names to run (default: wordcount,clicks)
 */
import { spawn } from 'node:child_process';

interface RunFigures {
  readonly seconds: number;
  readonly status: string;
  readonly exactlyOnce: string;
  readonly checkpoints: number;
  readonly restarts: number;
  readonly kills: number;
  readonly injected: number;
}

const SEED = process.env.BENCH_FAULTS_SEED ?? '1';
const ONLY = (process.env.BENCH_FAULTS_ONLY ?? 'wordcount,clicks').split(',');

function tidemark(args: string[]): Promise<RunFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/tidemark.mjs', 'run', ...args, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(figures(JSON.parse(stdout) as Summary));
      } catch (e) {
        reject(new Error(`tidemark run ${args.join(' ')} printed no summary: ${stderr.slice(-2000)}`, { cause: e }));
      }
    });
  });
}

interface Summary {
  elapsedMs: number;
  status: string;
  exactlyOnce: { ok: boolean; verdict?: string } | null;
  checkpoints: { status: string }[];
  restarts: number;
  kills: number;
  wireFaults: { injected: Record<string, Record<string, number>> } | null;
}

function figures(s: Summary): RunFigures {
  const injected = Object.values(s.wireFaults?.injected ?? {}).reduce((n, kinds) => n + Object.values(kinds).reduce((a, b) => a + b, 0), 0);
  return {
    seconds: Math.round(s.elapsedMs / 100) / 10,
    status: s.status,
    exactlyOnce: s.exactlyOnce ? (s.exactlyOnce.verdict ?? (s.exactlyOnce.ok ? 'ok' : 'differs')) : 'not checked',
    checkpoints: s.checkpoints.filter((c) => c.status === 'COMPLETED').length,
    restarts: s.restarts,
    kills: s.kills,
    injected,
  };
}

const result: Record<string, unknown> = {};
for (const example of ONLY) {
  const file = `examples/${example}.ts`;
  const clean = await tidemark([file]);
  console.log(`${example} clean: ${JSON.stringify(clean)}`);
  const faulty = await tidemark([file, '--wire-faults', '0.02', '--wire-faults-seed', SEED, '--kill-rate', '0.05']);
  console.log(`${example} wire faults 2 % + kill rate 5 %: ${JSON.stringify(faulty)}`);
  result[example] = { clean, faulty, ratio: Math.round((faulty.seconds / clean.seconds) * 100) / 100 };
}
if (ONLY.includes('wordcount')) {
  const lost = await tidemark(['examples/wordcount.ts', '--wire-faults', 'lost=0.1', '--wire-faults-seed', SEED]);
  console.log(`wordcount lost responses 10 %: ${JSON.stringify(lost)}`);
  result.wordcountLost10 = lost;
}
console.log(JSON.stringify(result));
