/**
 * The `tidemark` command.
 *
 *   tidemark run <job-file> [--records N] [--duration S] [--interval MS] [--kill-rate P]
 *                           [--restore-at N] [--memory] [--no-verify] [--json]
 *
 * Runs the job locally — on the emulator (AWS_ENDPOINT_URL, or moto which the project
 * installs and starts itself) or, with --memory, on the in-memory adapters — until it
 * finishes (or for --duration seconds, then stops it with a savepoint), with optional fault
 * injection, then prints the checkpoint table and an exactly-once check against a
 * sequential evaluation. Exit status: 0 on success, 1 if the job failed or the check found
 * differences, 2 for bad usage.
 */
import { parseArgs } from 'node:util';
import { TidemarkError } from '../lib/core/errors.js';
import { EmulatorError } from './emulator-venv.js';
import { ingestCommand } from './ingest-command.js';
import { printSummary, runJob } from './run-job.js';

const USAGE = `usage: tidemark run <job-file> [options]
       tidemark ingest <job-file> <file|-> [--source NAME] [--key FIELD]
run options:
  --records N      records the job reads (examples honour it through TIDEMARK_RECORDS)
  --duration S     stop the job with a savepoint after S seconds if it has not finished
  --interval MS    override the job's checkpoint interval
  --kill-rate P    fraction (0..1) of operator invocations that die at a random protocol step
  --restore-at N   force one restore from the latest checkpoint after N completed checkpoints
  --memory         run on the in-memory adapters instead of an AWS emulator
  --input S=PATH   load a file into source S first (the job module's \`inputs\` do this too)
  --no-verify      skip the comparison with a sequential evaluation
  --json           print one JSON summary on stdout (progress and table go to stderr)
ingest appends one JSON record per line to a log source of the job, on AWS or AWS_ENDPOINT_URL.`;

function usage(message: string): never {
  console.error(`tidemark: ${message}\n${USAGE}`);
  process.exit(2);
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) usage(`--${name} must be a positive number, got ${JSON.stringify(value)}`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        interval: { type: 'string' },
        duration: { type: 'string' },
        records: { type: 'string' },
        'kill-rate': { type: 'string' },
        'restore-at': { type: 'string' },
        memory: { type: 'boolean', default: false },
        input: { type: 'string', multiple: true },
        source: { type: 'string' },
        key: { type: 'string' },
        'no-verify': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (e) {
    usage((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [command, jobFile, ...rest] = positionals;
  if (command !== 'run' && command !== 'ingest') usage(command ? `unknown command ${JSON.stringify(command)}` : 'missing command');
  if (!jobFile) usage('missing <job-file>');
  if (command === 'ingest') {
    if (rest.length !== 1) usage('ingest takes <job-file> and one <file|->');
    try {
      await ingestCommand({ jobFile, file: rest[0]!, ...(values.source ? { source: values.source } : {}), ...(values.key ? { key: values.key } : {}), out: (l) => console.log(l) });
      return 0;
    } catch (e) {
      if (e instanceof TidemarkError) {
        console.error(`tidemark: ${e.message}`);
        return 1;
      }
      throw e;
    }
  }
  if (rest.length > 0) usage(`unexpected arguments: ${rest.join(' ')}`);
  const out = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);
  const tty = process.stderr.isTTY && !values.json;
  const interval = positive('interval', values.interval);
  const duration = positive('duration', values.duration);
  const records = positive('records', values.records);
  const restoreAt = positive('restore-at', values['restore-at']);
  const killRate = values['kill-rate'] === undefined ? 0 : Number(values['kill-rate']);
  if (!(killRate >= 0 && killRate < 1)) usage(`--kill-rate must be a number from 0 up to (not including) 1, got ${JSON.stringify(values['kill-rate'])}`);
  for (const [name, n] of [['records', records], ['restore-at', restoreAt]] as const) {
    if (n !== undefined && !Number.isInteger(n)) usage(`--${name} must be a whole number, got ${n}`);
  }
  try {
    const summary = await runJob({
      jobFile,
      ...(interval === undefined ? {} : { interval }),
      ...(duration === undefined ? {} : { durationSeconds: duration }),
      ...(records === undefined ? {} : { records }),
      ...(restoreAt === undefined ? {} : { restoreAt }),
      killRate,
      memory: values.memory,
      inputs: values.input ?? [],
      verify: !values['no-verify'],
      json: values.json,
      out,
      progress: tty ? (line) => process.stderr.write(`\r\x1b[K${line}`) : null,
    });
    if (tty) process.stderr.write('\n');
    if (values.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    } else {
      printSummary(summary, out);
      const check = summary.exactlyOnce;
      if (check?.ok) out(`exactly-once: OK (${check.summary})`);
      else if (check) {
        out(`exactly-once: FAILED, ${check.differences.length} differences:`);
        for (const d of check.differences.slice(0, 20)) out(`  ${d}`);
      }
    }
    if (summary.status === 'FAILED') return 1;
    return summary.exactlyOnce && !summary.exactlyOnce.ok ? 1 : 0;
  } catch (e) {
    if (e instanceof TidemarkError || e instanceof EmulatorError) {
      console.error(`tidemark: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
