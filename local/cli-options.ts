/**
 * The command line of `tidemark`: which options each command takes, and what they must be.
 * Everything wrong with it is a `UsageError` (exit status 2) with one line that names the
 * option and the value, e.g. `--interval must be a positive number, got -5`.
 *
 * node:util's parseArgs reads `--interval -5` as an option without its value followed by an
 * unknown option `-5` ("argument is ambiguous"): a value that looks like a negative number
 * is joined to its option first (`--interval=-5`), so that it is the value check that speaks.
 */
import { parseArgs } from 'node:util';
import { validateWireFaults, WIRE_FAULT_KINDS, type WireFaultKind, type WireFaultOptions } from '../lib/adapters/aws/wire-faults.js';
import { UsageError } from './cli-errors.js';
import type { RestoreArgs } from './restore-command.js';

export const USAGE = `usage: tidemark run <job-file> [options]
       tidemark dev <job-file> [run options] [--ui [--ui-port N]]    like run, then stays up (Ctrl-C stops it) for the commands below; --ui serves the web UI beside it
       tidemark ui [<job-file> ...] [--port N]    the web UI and its REST API for the jobs on the target (port 8081; 0 picks a free one)
       tidemark list [--json]
       tidemark status <job-file>|--job NAME [--json]
       tidemark checkpoints <job-file>|--job NAME [--id N] [--json]
       tidemark savepoint <job-file>|--job NAME [--name NAME] [--json]
       tidemark stop <job-file>|--job NAME [--savepoint NAME] [--json]
       tidemark cancel <job-file>|--job NAME [--json]    end it now, no savepoint (restore --from latest later)
       tidemark savepoints <job-file>|--job NAME [--json]
       tidemark dispose <job-file>|<job name> <savepoint> [--json]
       tidemark output <job-file> <sink> [--limit N] [--json]
       tidemark restore <job-file> --from latest|<checkpoint id>|<savepoint name> [--parallelism N] [--allow-non-restored-state] [--wait] [--json]
       tidemark deploy --local [<job-file>] [--kill-rate P] [--restore-at N] [--duration S] [--enforce-iam] [--stay] [--no-verify] [--json]
       tidemark ingest <job-file> <file|-> [--source NAME] [--key FIELD]
run options:
  --records N      records the job reads (examples honour it through TIDEMARK_RECORDS)
  --duration S     stop the job with a savepoint after S seconds if it has not finished
  --interval MS    override the job's checkpoint interval
  --kill-rate P    fraction (0..1) of operator invocations that die at a random protocol step
  --restore-at N   force one restore from the latest checkpoint after N completed checkpoints
  --wire-faults SPEC  faults on the AWS SDK's calls, per attempt (needs an emulator): a rate for
                   every kind (0.02), or per kind (throttle=0.05,lost=0.01; kinds: throttle, 5xx,
                   latency, lost), and latency-ms=N for the longest delay (default 200)
  --wire-faults-seed N  seed of the wire faults' choices (default: random, printed)
  --memory         run on the in-memory adapters instead of an AWS emulator
  --input S=PATH   load a file into source S first (the job module's \`inputs\` do this too)
  --no-verify      skip the comparison with a sequential evaluation
  --fresh          on an endpoint that already has the job (AWS_ENDPOINT_URL): delete its state,
                   checkpoints, output and queued messages, then run it as new (not while it runs)
  --json           print one JSON summary on stdout (progress and table go to stderr)
deploy --local: \`cdk deploy\` of the job's stack (default examples/wordcount.ts) into the embedded emulator
  (or AWS_ENDPOINT_URL), run there from its bundles, watched and checked like \`run\`;
  --enforce-iam runs the functions under their own roles, with IAM enforced;
  --kill-rate P deploys the stack with fault injection: that fraction of operator invocations ends its
  process at a random protocol step (and the operator timeout drops to 3 s, so SQS redelivers in 18 s);
  --stay keeps the emulator and the stack up after the job ends, like dev (a restore with another job
  file redeploys the stack with it first)
ingest options:
  --source NAME    the log source to append to (when the job has several)
  --key FIELD      partition by this field of each record (one key stays in order)
ingest appends one JSON record per line to a log source of the job, on AWS or AWS_ENDPOINT_URL.`;

const RUN_ONLY = {
  interval: { type: 'string' },
  duration: { type: 'string' },
  records: { type: 'string' },
  'kill-rate': { type: 'string' },
  'restore-at': { type: 'string' },
  'wire-faults': { type: 'string', multiple: true },
  'wire-faults-seed': { type: 'string' },
  memory: { type: 'boolean' },
  input: { type: 'string', multiple: true },
  'no-verify': { type: 'boolean' },
  fresh: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;
const INGEST_ONLY = { source: { type: 'string' }, key: { type: 'string' } } as const;
const DEPLOY_ONLY = { local: { type: 'boolean' }, 'enforce-iam': { type: 'boolean' }, stay: { type: 'boolean' } } as const;
const OPS_ONLY = {
  job: { type: 'string' },
  id: { type: 'string' },
  name: { type: 'string' },
  savepoint: { type: 'string' },
  from: { type: 'string' },
  parallelism: { type: 'string' },
  wait: { type: 'boolean' },
  'allow-non-restored-state': { type: 'boolean' },
  limit: { type: 'string' },
} as const;
const UI_ONLY = { port: { type: 'string' }, ui: { type: 'boolean' }, 'ui-port': { type: 'string' } } as const;
const OPTIONS = { ...RUN_ONLY, ...INGEST_ONLY, ...DEPLOY_ONLY, ...OPS_ONLY, ...UI_ONLY, help: { type: 'boolean' } } as const;

const COMMANDS = ['run', 'dev', 'ingest', 'deploy', 'list', 'status', 'checkpoints', 'savepoint', 'stop', 'cancel', 'restore', 'output', 'savepoints', 'dispose', 'ui'] as const;
type CommandName = (typeof COMMANDS)[number];
/** Which commands take each option (`dev` takes all of `run`'s). */
const TAKEN_BY: Record<Exclude<keyof typeof OPTIONS, 'help'>, readonly CommandName[]> = {
  ...(Object.fromEntries(Object.keys(RUN_ONLY).map((k) => [k, ['run', 'dev']])) as Record<keyof typeof RUN_ONLY, CommandName[]>),
  duration: ['run', 'dev', 'deploy'],
  'restore-at': ['run', 'dev', 'deploy'],
  'no-verify': ['run', 'dev', 'deploy'],
  'kill-rate': ['run', 'dev', 'deploy'],
  json: ['run', 'dev', 'deploy', 'list', 'status', 'checkpoints', 'savepoint', 'stop', 'cancel', 'restore', 'output', 'savepoints', 'dispose'],
  source: ['ingest'],
  key: ['ingest'],
  local: ['deploy'],
  'enforce-iam': ['deploy'],
  stay: ['deploy'],
  job: ['status', 'checkpoints', 'savepoint', 'stop', 'cancel', 'savepoints'],
  id: ['checkpoints'],
  name: ['savepoint'],
  savepoint: ['stop'],
  from: ['restore'],
  parallelism: ['restore'],
  wait: ['restore'],
  'allow-non-restored-state': ['restore'],
  limit: ['output'],
  port: ['ui'],
  ui: ['dev'],
  'ui-port': ['dev'],
};

/** The CDK app's default job (infra/app.ts), which `deploy` takes when given none. */
export const DEFAULT_DEPLOY_JOB = 'examples/wordcount.ts';

export interface RunArgs {
  readonly jobFile: string;
  readonly interval?: number;
  readonly durationSeconds?: number;
  readonly records?: number;
  readonly restoreAt?: number;
  readonly killRate: number;
  readonly wireFaults?: WireFaultOptions;
  readonly memory: boolean;
  readonly inputs: readonly string[];
  readonly verify: boolean;
  readonly json: boolean;
  /** Start over when the endpoint already has the job (local/fresh-start.ts). */
  readonly fresh?: boolean;
  /** `dev --ui`: serve the web UI beside the run, on this port (0: a free one). */
  readonly ui?: { readonly port: number };
}

export interface UiArgs {
  /** Job files the UI knows (for their graphs and for restores); a dev's own job comes with it. */
  readonly jobFiles: readonly string[];
  readonly port: number;
}

/** Flink's web UI port. */
export const DEFAULT_UI_PORT = 8081;

export interface IngestArgs {
  readonly jobFile: string;
  readonly file: string;
  readonly source?: string;
  readonly key?: string;
}

export interface DeployArgs {
  readonly jobFile: string;
  readonly durationSeconds?: number;
  readonly restoreAt?: number;
  readonly enforceIam: boolean;
  readonly killRate: number;
  /** Stay up after the job ends, like `dev` (a restore with another job file redeploys). */
  readonly stay: boolean;
  readonly verify: boolean;
  readonly json: boolean;
}

/** `list`, `status`, `checkpoints`: a job by its file or `--job NAME`. */
export interface OpsArgs {
  readonly jobFile?: string;
  readonly job?: string;
  readonly id?: number;
  /** `savepoint --name`, `stop --savepoint`: the savepoint's name. */
  readonly savepointName?: string;
  readonly json: boolean;
}

type OpsCommand = 'list' | 'status' | 'checkpoints' | 'savepoint' | 'stop' | 'cancel' | 'savepoints';

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'run'; readonly args: RunArgs }
  | { readonly kind: 'dev'; readonly args: RunArgs }
  | { readonly kind: OpsCommand; readonly args: OpsArgs }
  | { readonly kind: 'restore'; readonly args: RestoreArgs & { readonly json: boolean } }
  | { readonly kind: 'dispose'; readonly args: { readonly job: string; readonly savepoint: string; readonly json: boolean } }
  | { readonly kind: 'output'; readonly args: { readonly jobFile: string; readonly sink: string; readonly limit?: number; readonly json: boolean } }
  | { readonly kind: 'ingest'; readonly args: IngestArgs }
  | { readonly kind: 'deploy'; readonly args: DeployArgs }
  | { readonly kind: 'ui'; readonly args: UiArgs };

type Values = ReturnType<typeof parse>['values'];

export function parseCommand(argv: readonly string[]): Command {
  const { values, positionals } = parse(argv);
  if (values.help) return { kind: 'help' };
  const [command, jobFile, ...rest] = positionals;
  if (!isCommand(command)) throw new UsageError(command ? `unknown command ${JSON.stringify(command)}` : 'missing command', true);
  const foreign = (Object.keys(TAKEN_BY) as (keyof typeof TAKEN_BY)[]).find((n) => values[n] !== undefined && !TAKEN_BY[n].includes(command));
  if (foreign) throw new UsageError(`--${foreign} is an option of ${commandList(TAKEN_BY[foreign])}, not of \`tidemark ${command}\``);
  if (command === 'deploy') return { kind: 'deploy', args: deployArgs(jobFile, rest, values) };
  if (command === 'ui') return { kind: 'ui', args: { jobFiles: jobFile ? [jobFile, ...rest] : [], port: port('port', values.port) ?? DEFAULT_UI_PORT } };
  if (command === 'restore') return { kind: 'restore', args: restoreArgs(jobFile, rest, values) };
  if (command === 'dispose') {
    // `dispose <job> <savepoint>`: a job's name (or its file) and the savepoint's name.
    if (!jobFile || rest.length !== 1) throw new UsageError('dispose takes <job-file>|<job name> and one <savepoint>', true);
    return { kind: 'dispose', args: { job: jobFile, savepoint: rest[0]!, json: values.json ?? false } };
  }
  if (command === 'output') {
    if (!jobFile || rest.length !== 1) throw new UsageError('output takes <job-file> and one <sink>', true);
    const limit = whole('limit', positive('limit', values.limit));
    return { kind: 'output', args: { jobFile, sink: rest[0]!, ...(limit === undefined ? {} : { limit }), json: values.json ?? false } };
  }
  if (command === 'list' || command === 'status' || command === 'checkpoints' || command === 'savepoint' || command === 'stop' || command === 'cancel' || command === 'savepoints') {
    return { kind: command, args: opsArgs(command, jobFile, rest, values) };
  }
  if (!jobFile) throw new UsageError('missing <job-file>', true);
  if (command === 'ingest') {
    if (rest.length !== 1) throw new UsageError('ingest takes <job-file> and one <file|->', true);
    return { kind: 'ingest', args: { jobFile, file: rest[0]!, ...(values.source ? { source: values.source } : {}), ...(values.key ? { key: values.key } : {}) } };
  }
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (command === 'dev' && values.memory) throw new UsageError('tidemark dev needs an emulator (the other commands reach it from another terminal): it cannot be used with --memory');
  if (values['ui-port'] !== undefined && !values.ui) throw new UsageError('--ui-port needs --ui');
  const uiPort = port('ui-port', values['ui-port']) ?? DEFAULT_UI_PORT;
  return { kind: command === 'dev' ? 'dev' : 'run', args: { ...runArgs(jobFile, values), ...(values.ui ? { ui: { port: uiPort } } : {}) } };
}

function restoreArgs(jobFile: string | undefined, rest: readonly string[], values: Values): RestoreArgs & { readonly json: boolean } {
  if (!jobFile) throw new UsageError('restore needs the <job-file> whose code the new generation runs', true);
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  if (!values.from) throw new UsageError('restore needs --from latest|<checkpoint id>|<savepoint name>');
  const parallelism = whole('parallelism', positive('parallelism', values.parallelism));
  return {
    jobFile,
    from: values.from,
    ...(parallelism === undefined ? {} : { parallelism }),
    allowNonRestoredState: values['allow-non-restored-state'] ?? false,
    wait: values.wait ?? false,
    json: values.json ?? false,
  };
}

const isCommand = (c: string | undefined): c is CommandName => (COMMANDS as readonly (string | undefined)[]).includes(c);

function opsArgs(command: OpsCommand, jobFile: string | undefined, rest: readonly string[], values: Values): OpsArgs {
  if (rest.length > 0 || (command === 'list' && jobFile)) throw new UsageError(`unexpected arguments: ${[...(command === 'list' && jobFile ? [jobFile] : []), ...rest].join(' ')}`);
  const id = whole('id', positive('id', values.id));
  return {
    ...(jobFile ? { jobFile } : {}),
    ...(values.job ? { job: values.job } : {}),
    ...(id === undefined ? {} : { id }),
    ...(values.name ?? values.savepoint ? { savepointName: (values.name ?? values.savepoint)! } : {}),
    json: values.json ?? false,
  };
}

function deployArgs(jobFile: string | undefined, rest: readonly string[], values: Values): DeployArgs {
  if (!values.local) {
    throw new UsageError('tidemark deploy needs --local (the embedded emulator, or AWS_ENDPOINT_URL); deploy to AWS with `npx cdk deploy -c job=<job-file>`');
  }
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')}`);
  const durationSeconds = positive('duration', values.duration);
  const restoreAt = whole('restore-at', positive('restore-at', values['restore-at']));
  return {
    jobFile: jobFile ?? DEFAULT_DEPLOY_JOB,
    ...(durationSeconds === undefined ? {} : { durationSeconds }),
    ...(restoreAt === undefined ? {} : { restoreAt }),
    enforceIam: values['enforce-iam'] ?? false,
    killRate: rate('kill-rate', values['kill-rate']),
    stay: values.stay ?? false,
    verify: !values['no-verify'],
    json: values.json ?? false,
  };
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: joinNegativeValues(argv), allowPositionals: true, options: OPTIONS });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** `--interval -5` → `--interval=-5`, for options that take a value. */
function joinNegativeValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.startsWith('--') ? argv[i]!.slice(2) : '';
    const next = argv[i + 1];
    if (OPTIONS[name as keyof typeof OPTIONS]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(argv[i]!);
  }
  return out;
}

function runArgs(jobFile: string, values: Values): RunArgs {
  const interval = positive('interval', values.interval);
  const durationSeconds = positive('duration', values.duration);
  const records = whole('records', positive('records', values.records));
  const restoreAt = whole('restore-at', positive('restore-at', values['restore-at']));
  const killRate = rate('kill-rate', values['kill-rate']);
  const wireFaults = wireFaultOptions(values['wire-faults'], values['wire-faults-seed']);
  if (wireFaults && values.memory) throw new UsageError('--wire-faults injects faults into the AWS SDK’s calls and needs an emulator: it cannot be used with --memory');
  return {
    jobFile,
    ...(interval === undefined ? {} : { interval }),
    ...(durationSeconds === undefined ? {} : { durationSeconds }),
    ...(records === undefined ? {} : { records }),
    ...(restoreAt === undefined ? {} : { restoreAt }),
    ...(wireFaults === undefined ? {} : { wireFaults }),
    killRate,
    memory: values.memory ?? false,
    inputs: values.input ?? [],
    verify: !values['no-verify'],
    json: values.json ?? false,
    ...(values.fresh ? { fresh: true } : {}),
  };
}

/** `tidemark a`, `tidemark b` and `tidemark c`. */
function commandList(commands: readonly string[]): string {
  const named = commands.map((c) => `\`tidemark ${c}\``);
  return named.length === 1 ? named[0]! : `${named.slice(0, -1).join(', ')} and ${named.at(-1)}`;
}

function rate(name: string, value: string | undefined): number {
  const r = value === undefined ? 0 : Number(value);
  if (!(r >= 0 && r < 1)) throw new UsageError(`--${name} must be a number from 0 up to (not including) 1, got ${value}`);
  return r;
}

function positive(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new UsageError(`--${name} must be a positive number, got ${value}`);
  return n;
}

/** A TCP port, 0 (a free one) to 65535. */
function port(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} must be a port number from 0 to 65535, got ${value}`);
  return n;
}

function whole(name: string, n: number | undefined): number | undefined {
  if (n !== undefined && !Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got ${n}`);
  return n;
}

/** `--wire-faults 0.02`, `--wire-faults throttle=0.05,lost=0.01`, `latency-ms=500`; repeated flags add up. */
function wireFaultOptions(specs: readonly string[] | undefined, seedText: string | undefined): WireFaultOptions | undefined {
  if (!specs) {
    if (seedText !== undefined) throw new UsageError('--wire-faults-seed needs --wire-faults');
    return undefined;
  }
  const rates: Partial<Record<WireFaultKind, number>> = {};
  let maxLatencyMs: number | undefined;
  for (const item of specs.flatMap((s) => s.split(',')).map((s) => s.trim())) {
    const [key, text] = item.includes('=') ? item.split('=', 2) : [null, item];
    const n = Number(text);
    if (text === undefined || text === '' || !Number.isFinite(n)) throw new UsageError(`--wire-faults: ${JSON.stringify(item)} is not a rate, kind=rate or latency-ms=N`);
    if (key === 'latency-ms') maxLatencyMs = n;
    else if (key === null) for (const kind of WIRE_FAULT_KINDS) rates[kind] = n;
    else if ((WIRE_FAULT_KINDS as readonly string[]).includes(key!)) rates[key as WireFaultKind] = n;
    else throw new UsageError(`--wire-faults: unknown kind ${JSON.stringify(key)}; kinds are ${WIRE_FAULT_KINDS.join(', ')}`);
  }
  const seed = seedText === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(seedText);
  if (!(Number.isInteger(seed) && seed >= 0)) throw new UsageError(`--wire-faults-seed must be a whole number from 0, got ${seedText}`);
  const options: WireFaultOptions = { rates, seed, ...(maxLatencyMs === undefined ? {} : { maxLatencyMs }) };
  try {
    validateWireFaults(options);
  } catch (e) {
    throw new UsageError(`--wire-faults: ${(e as Error).message}`);
  }
  return options;
}
