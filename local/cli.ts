/**
 * The `tidemark` command.
 *
 *   tidemark run <job-file> [--records N] [--duration S] [--interval MS] [--kill-rate P]
 *                           [--restore-at N] [--wire-faults SPEC [--wire-faults-seed N]]
 *                           [--memory] [--no-verify] [--json]
 *   tidemark deploy --local [<job-file>] [--kill-rate P] [--restore-at N] [--duration S] [--enforce-iam]
 *                           [--no-verify] [--json]
 *   tidemark ingest <job-file> <file|-> [--source NAME] [--key FIELD]
 *   tidemark ui [<job-file> ...] [--port N]      (and `tidemark dev … --ui`: local/ui/)
 *
 * Runs the job locally — on the emulator (AWS_ENDPOINT_URL, or MiniStack which the project
 * installs and starts itself) or, with --memory, on the in-memory adapters — until it
 * finishes (or for --duration seconds, then stops it with a savepoint), with optional fault
 * injection, then prints the checkpoint table and an exactly-once check against a
 * sequential evaluation. `deploy --local` does the same with the job's real stack, deployed
 * with `cdk deploy` into the emulator and run there by it (deploy-local.ts). With --json, stdout carries exactly one JSON object (the summary);
 * everything else goes to stderr. Exit status: 0 on success, 1 if the job failed, the check
 * found differences or something went wrong while running, 2 for bad usage (options, a job
 * file that is not there or not a job). Mistakes get one line, not a stack trace.
 */
import { cancelCommand } from './cancel-command.js';
import { report } from './cli-errors.js';
import { parseCommand, USAGE, type DeployArgs, type OpsArgs, type RunArgs } from './cli-options.js';
import { stayUp } from './stay-up.js';
import { readRegistry, removeRegistry, writeRegistry } from './dev-registry.js';
import { checkpointsCommand, jobReference, listCommand, outputCommand, statusCommand } from './ops-commands.js';
import { restoreCommand } from './restore-command.js';
import { disposeCommand, savepointCommand, savepointsCommand } from './savepoint-commands.js';
import { resolveTarget, targetOfDev } from './target.js';
import { deployLocal } from './deploy-local.js';
import { ingestCommand } from './ingest-command.js';
import { printSummary, runJob, type HostControl, type RunSummary } from './run-job.js';
import { startUi, uiCommand } from './ui/ui-command.js';
import type { UiServer } from './ui/ui-server.js';

export async function main(argv: string[]): Promise<number> {
  try {
    const command = parseCommand(argv);
    if (command.kind === 'help') {
      console.log(USAGE);
      return 0;
    }
    if (command.kind === 'ingest') {
      await ingestCommand({ ...command.args, out: (l) => console.log(l), warn: (l) => console.error(`tidemark: ${l}`) });
      return 0;
    }
    if (command.kind === 'deploy') return await deploy(command.args);
    if (command.kind === 'ui') return await uiCommand(resolveTarget(), command.args.jobFiles, command.args.port, (l: string) => console.error(l));
    if (command.kind === 'dev') return await dev(command.args);
    if (command.kind === 'run') return await watched(command.args.json, (io) => runJob({ ...command.args, ...io }));
    if (command.kind === 'dispose') {
      const { job, savepoint, json } = command.args;
      const { name } = /\.(ts|mts|js|mjs)$/.test(job) ? await jobReference(job, undefined) : { name: job };
      const target = resolveTarget();
      await target.prepare(name);
      await disposeCommand(target, name, savepoint, { json, out: (l) => process.stdout.write(`${l}\n`) });
      return 0;
    }
    if (command.kind === 'output') {
      const { jobFile, sink, limit, json } = command.args;
      await outputCommand(resolveTarget(), jobFile, sink, limit, { json, out: (l) => process.stdout.write(`${l}\n`) });
      return 0;
    }
    if (command.kind === 'restore') return await restoreCommand(resolveTarget(), command.args, { json: command.args.json, out: (l) => process.stdout.write(`${l}\n`) });
    await operations(command.kind, command.args);
    return 0;
  } catch (e) {
    const known = report(e);
    if (!known) throw e;
    console.error(`tidemark: ${known.message}${known.usage ? `\n${USAGE}` : ''}`);
    return known.exitCode;
  }
}

interface Io {
  readonly out: (line: string) => void;
  readonly log: (line: string) => void;
  readonly progress: ((line: string) => void) | null;
}

/** Runs a watched job (`run`, `deploy --local`), then prints its summary and verdict. */
async function watched(json: boolean, start: (io: Io) => Promise<RunSummary>): Promise<number> {
  const io = ioFor(json);
  let summary;
  try {
    summary = await start(io);
  } finally {
    io.endProgress();
  }
  return reportSummary(summary, json, io.out);
}

/**
 * `tidemark dev`: `run`, then the emulator and the local host stay up until Ctrl-C (or
 * SIGTERM), recorded in .tidemark/dev.json for the other commands; the summary is printed
 * when the job ends, and the exit status is the run's.
 */
async function dev(args: RunArgs): Promise<number> {
  const io = ioFor(args.json);
  let code = 1;
  let ui: Promise<UiServer> | null = null;
  try {
    await runJob({
      ...args,
      ...io,
      onStarted: (world, job) => {
        if (!world.aws) return;
        const { endpoint, region, table, bucket } = world.aws;
        const keys = { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '' };
        writeRegistry({ pid: process.pid, endpoint, region, ...keys, jobs: [{ name: job, jobFile: args.jobFile, table, bucket }] });
        io.log(`tidemark dev: ${endpoint}; from another terminal in this directory: tidemark list | status | checkpoints`);
        if (args.ui) {
          const started = startUi(targetOfDev(readRegistry()!), [args.jobFile], args.ui.port, io.log, args.interval);
          ui = started;
          // A UI that cannot start (its port taken) is said once; the run goes on.
          started.catch((e: unknown) => io.log(`tidemark dev: the web UI did not start: ${e instanceof Error ? e.message : String(e)}`));
        }
      },
      whileUp: async (summary, host) => {
        io.endProgress();
        code = reportSummary(summary, args.json, io.out);
        io.log('tidemark dev: the job ended; the emulator stays up until Ctrl-C');
        await stayUp(summary.job, host, io.log);
      },
    });
  } finally {
    removeRegistry();
    io.endProgress();
    await (ui as Promise<UiServer> | null)?.then((s) => s.close(), () => {});
  }
  return code;
}

/**
 * `tidemark deploy --local`: deployed and watched like a run, recorded in .tidemark/dev.json
 * while it is up (the operations commands then reach the deployed table and bucket, whose
 * names CloudFormation chose); with `--stay` it stays up after the job ends, as `dev` does,
 * and a restore with another job file redeploys the stack with it first.
 */
async function deploy(args: DeployArgs): Promise<number> {
  const io = ioFor(args.json);
  let code = 1;
  try {
    const summary = await deployLocal({
      ...args,
      ...io,
      onStarted: (deployed, emulator, job) => {
        const { config } = deployed;
        writeRegistry({
          pid: process.pid,
          kind: 'deploy',
          endpoint: emulator.endpoint,
          ...(emulator.certificate ? { certificate: emulator.certificate } : {}),
          region: config.region,
          accessKeyId: config.credentials?.accessKeyId ?? '',
          secretAccessKey: config.credentials?.secretAccessKey ?? '',
          jobs: [{ name: job, jobFile: args.jobFile, table: config.table, bucket: config.bucket }],
        });
        io.log(`tidemark deploy --local: stack ${deployed.stack} at ${emulator.endpoint}; from another terminal in this directory: tidemark list | status | checkpoints | savepoint | stop | cancel`);
      },
      ...(args.stay
        ? {
            whileUp: async (s: RunSummary, host: HostControl) => {
              io.endProgress();
              code = reportSummary(s, args.json, io.out);
              io.log('tidemark deploy --local: the job ended; the emulator and the stack stay up until Ctrl-C');
              await stayUp(s.job, host, io.log);
            },
          }
        : {}),
    });
    io.endProgress();
    if (!args.stay) code = reportSummary(summary, args.json, io.out);
  } finally {
    removeRegistry();
    io.endProgress();
  }
  return code;
}

async function operations(kind: 'list' | 'status' | 'checkpoints' | 'savepoint' | 'stop' | 'cancel' | 'savepoints', args: OpsArgs): Promise<void> {
  const target = resolveTarget();
  const o = { json: args.json, out: (line: string) => process.stdout.write(`${line}\n`) };
  if (kind === 'list') return listCommand(target, o);
  const { name, settings, graph } = await jobReference(args.jobFile, args.job);
  await target.prepare(name);
  if (kind === 'status') return statusCommand(target, name, o, graph);
  if (kind === 'savepoint' || kind === 'stop') return savepointCommand(target, name, args.savepointName, kind === 'stop', o);
  if (kind === 'savepoints') return savepointsCommand(target, name, o);
  if (kind === 'cancel') return cancelCommand(target, name, o);
  return checkpointsCommand(target, name, settings, args.id, o);
}

interface ProgressIo extends Io {
  /** Ends the live progress line (a newline on a terminal). */
  endProgress(): void;
}

function ioFor(json: boolean): ProgressIo {
  const out = (line: string) => (json ? process.stderr : process.stdout).write(`${line}\n`);
  const tty = process.stderr.isTTY && !json;
  let drawn = false;
  // A diagnostic line clears the live progress line first; the next poll redraws it.
  const log = (line: string) => process.stderr.write(tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  const progress = tty
    ? (line: string) => {
        drawn = true;
        process.stderr.write(`\r\x1b[K${line}`);
      }
    : null;
  const endProgress = () => {
    if (drawn) process.stderr.write('\n');
    drawn = false;
  };
  return { out, log, progress, endProgress };
}

/** Prints the summary (or its JSON) and the verdict; returns the exit status. */
function reportSummary(summary: RunSummary, json: boolean, out: (line: string) => void): number {
  if (json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    printSummary(summary, out);
    // verifyRun's result, passed through by the run.
    const check = summary.exactlyOnce as import('./verify.js').Verification | null;
    if (check?.ok) out(`exactly-once: OK (${check.summary})`);
    else if (check?.verdict === 'non-deterministic') {
      // The reference is not reproducible, so its differences say nothing about the run.
      const culprit = check.operator ? `operator ${check.operator} gave` : 'the job gave';
      out(`exactly-once: NOT CHECKED — the job is non-deterministic: ${culprit} different output on two sequential evaluations (user functions must not read the clock or randomness)`);
    } else if (check) {
      out(`exactly-once: FAILED, ${check.differences.length} differences:`);
      for (const d of check.differences.slice(0, 20)) out(`  ${d}`);
    }
  }
  if (summary.status === 'FAILED') return 1;
  return summary.exactlyOnce && !summary.exactlyOnce.ok ? 1 : 0;
}
