/**
 * The embedded AWS emulator (DESIGN §9). `AWS_ENDPOINT_URL` wins (LocalStack or anything
 * compatible, used as is); otherwise MiniStack, installed by the project into its own
 * virtualenv `.venv/` on first use (pinned in emulator-requirements.txt), on a free loopback
 * port.
 *
 * What must hold: no emulator outlives its owner. It runs in its own process group, which
 * `stop()`, process exit (including a crash on an uncaught error), SIGINT, SIGTERM and SIGHUP
 * kill; and it exits by itself when its stdin closes (emulator-server.py), so even a
 * SIGKILLed owner leaves no orphan behind.
 *
 * MiniStack 1.5.33 as the callers must know it (the README lists these for users):
 * - it keeps SQS FIFO order, deduplication and DynamoDB/S3 conditional writes atomic, as AWS
 *   does, and its SQS calls cost the same whatever the queue depth;
 * - it runs Lambda functions as local `node` processes (the host's Node, whatever runtime the
 *   function names) and passes its own environment into them: it is started with a minimal
 *   one, so nothing of the user's shell (credentials, endpoints) reaches a function;
 * - with `AUTH=true` it enforces IAM: functions then run under sessions of their execution
 *   roles, and only the emulator's own key (EMULATOR_ACCESS_KEY) is the account's root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RetryableError } from '../lib/core/errors.js';
import { EmulatorError, ensureVenv } from './emulator-venv.js';

export { EmulatorError } from './emulator-venv.js';

export interface Emulator {
  readonly endpoint: string;
  readonly kind: 'external' | 'ministack';
  /** The PEM file of its self-signed certificate, when it serves https (IAM enforced). */
  readonly certificate?: string;
  /**
   * Batches its SQS event source mappings handed to a function that failed (died, timed out,
   * or threw), as its log reports them: how `deploy --local --kill-rate` counts the kills
   * that happen inside the deployed functions. Absent for an external endpoint.
   */
  failedBatches?(): number;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Progress and status lines (install, start); silent when absent. */
  readonly log?: (line: string) => void;
  /**
   * Enforce IAM: every request is checked against its caller's policies, and functions run
   * under their execution roles. It then serves https (with a self-signed certificate):
   * the job's bucket, like CDK's staging bucket, denies every request without TLS
   * (`aws:SecureTransport`), as it should on AWS. Ignored for an external endpoint (its own
   * setting holds).
   * @default false
   */
  readonly enforceIam?: boolean;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEALTH_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 3_000;
const START_ATTEMPTS = 3;

/**
 * The embedded emulator's root credentials. A key of its own, not the customary `test`: the
 * CDK CLI caches the account it resolved per access key, and another emulator's account
 * cached for `test` would break `cdk bootstrap` here.
 */
export const EMULATOR_ACCESS_KEY = 'tidemark-local';
const EMULATOR_SECRET_KEY = 'tidemark-local';
const EMULATOR_REGION = 'us-east-1';
/** The account every request of the embedded emulator runs in (MiniStack's default). */
export const EMULATOR_ACCOUNT = '000000000000';

/** The environment the AWS SDK (and the AWS CLI) needs to talk to an emulator. */
export function emulatorEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: EMULATOR_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: EMULATOR_SECRET_KEY,
    AWS_REGION: EMULATOR_REGION,
  };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const log = options.log ?? (() => {});
  const external = process.env.AWS_ENDPOINT_URL;
  if (external) {
    const endpoint = external.replace(/\/+$/, '');
    await ensureReachable(endpoint);
    log(`using the emulator at ${endpoint} (AWS_ENDPOINT_URL)`);
    return { endpoint, kind: 'external', stop: async () => {} };
  }
  const { python, version } = await ensureVenv(ROOT, log);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startMiniStack(python, version, log, options.enforceIam ?? false);
    } catch (e) {
      // Another process can take the port between our probe and the emulator's bind: try another.
      if (!(e instanceof PortTakenError) || attempt >= START_ATTEMPTS) throw e;
    }
  }
}

/** Another process bound the emulator's port first: starting again, on another port, may work. */
class PortTakenError extends RetryableError {
  readonly code = 'PORT_TAKEN';
}

const REACH_TIMEOUT_MS = 5_000;

/**
 * An endpoint the user named must answer before anything is provisioned on it: otherwise
 * every call would fail its SDK attempts and the run would end on whichever came first.
 * A TCP connection is enough (emulators differ in what they serve at `/`).
 */
export async function ensureReachable(endpoint: string, via = 'AWS_ENDPOINT_URL'): Promise<void> {
  const url = URL.canParse(endpoint) ? new URL(endpoint) : null;
  if (!url) throw new EmulatorError(`${via}=${endpoint} is not a URL`);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  await new Promise<void>((resolve, reject) => {
    const socket = connect({ host, port, timeout: REACH_TIMEOUT_MS });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new EmulatorError(`nothing answers at ${via}=${endpoint} within ${REACH_TIMEOUT_MS / 1000} s; is the emulator running?`));
    });
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const why = e.code === 'ECONNREFUSED' ? 'connection refused' : e.code === 'ENOTFOUND' ? 'host name not found' : e.message;
      reject(new EmulatorError(`cannot reach ${via}=${endpoint}: ${why}; is the emulator running? (unset ${via} to use the embedded one)`, { cause: e }));
    });
  });
}

/** MiniStack with a stdin watchdog: see emulator-server.py. */
const SERVER_SCRIPT = 'local/emulator-server.py';
const HEALTH_PATH = '/_ministack/health';

/**
 * The emulator's whole environment: MiniStack passes its own environment into every function
 * it runs, so it gets only what a process needs to run (PATH finds `node`) and its settings.
 */
function serverEnv(port: number, enforceIam: boolean, tmp: string): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'SYSTEMROOT'];
  const base = Object.fromEntries(keep.flatMap((k) => (process.env[k] ? [[k, process.env[k]!]] : [])));
  return {
    ...base,
    GATEWAY_PORT: String(port),
    BIND_HOST: '127.0.0.1',
    LOG_LEVEL: 'WARNING',
    MINISTACK_REGION: EMULATOR_REGION,
    MINISTACK_ACCOUNT_ID: EMULATOR_ACCOUNT,
    AUTH: enforceIam ? 'true' : 'false',
    USE_SSL: enforceIam ? '1' : '0',
    // The root key under AUTH=true (see EMULATOR_ACCESS_KEY).
    AWS_ACCESS_KEY_ID: EMULATOR_ACCESS_KEY,
    AWS_SECRET_ACCESS_KEY: EMULATOR_SECRET_KEY,
    PYTHONUNBUFFERED: '1',
    // Its pid file and every function's unpacked code go here, removed when it stops.
    TMPDIR: tmp,
    TIDEMARK_EMULATOR_TMP: tmp,
  };
}

async function startMiniStack(python: string, version: string, log: (line: string) => void, enforceIam: boolean): Promise<Emulator> {
  const port = await freePort();
  const endpoint = `${enforceIam ? 'https' : 'http'}://127.0.0.1:${port}`;
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'tidemark-emulator-'));
  const child = spawn(python, [join(ROOT, SERVER_SCRIPT)], {
    cwd: ROOT,
    env: serverEnv(port, enforceIam, tmp),
    detached: true, // its own process group, so that killing the group takes every descendant
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    await new Promise((resolve) => child.once('error', resolve));
    throw new EmulatorError(`could not start ${python}: the virtualenv looks broken; delete .venv/ and retry`);
  }
  cleanup.add(child);
  const tail = keepTail(child);
  const failed = countLines(child, FAILED_BATCH);
  // The emulator must never keep its owner alive: the owner's exit is what stops it.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  const stop = async () => {
    await stopChild(child);
    rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await waitHealthy(endpoint, child, tail);
  } catch (e) {
    await stop();
    if (/already in use/i.test(tail.join('\n'))) throw new PortTakenError(`${endpoint}: the port was taken before MiniStack could listen on it`, { cause: e });
    throw e;
  }
  log(`MiniStack ${version} listening on ${endpoint}${enforceIam ? ' (IAM enforced)' : ''} (started in ${Date.now() - started} ms)`);
  // MiniStack writes its certificate there at start (see its core/tls.py).
  const certificate = enforceIam ? join(tmp, 'ministack-tls', 'server.crt') : undefined;
  return { endpoint, kind: 'ministack', ...(certificate ? { certificate } : {}), failedBatches: () => failed.count, stop };
}

/** MiniStack's warning when a function fails an event source mapping's batch (services/lambda_svc.py). */
const FAILED_BATCH = /ESM: Lambda \S+ failed processing SQS batch/;

function countLines(child: ChildProcess, pattern: RegExp): { count: number } {
  const counter = { count: 0 };
  if (child.stderr) createInterface({ input: child.stderr }).on('line', (line) => pattern.test(line) && counter.count++);
  return counter;
}

/** Keeps the last lines the emulator printed (for error messages) and drains its pipes. */
function keepTail(child: ChildProcess): string[] {
  const tail: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
    });
  }
  return tail;
}

async function waitHealthy(endpoint: string, child: ChildProcess, tail: string[]): Promise<void> {
  const deadline = Date.now() + HEALTH_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exited(child)) {
      throw new EmulatorError(`MiniStack exited during start (code ${child.exitCode ?? child.signalCode}):\n${tail.join('\n')}`);
    }
    if (await answersHealthy(`${endpoint}${HEALTH_PATH}`)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new EmulatorError(`MiniStack did not answer on ${endpoint} within ${HEALTH_TIMEOUT_MS / 1000} s:\n${tail.join('\n')}`);
}

/**
 * Whether the health path answers 2xx. Over https the certificate is not checked: this is
 * our own child on loopback, probed before its certificate is known to be written.
 */
function answersHealthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? httpsGet : httpGet;
    const req = get(url, { timeout: 1000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve((res.statusCode ?? 500) < 300);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new EmulatorError('no port: the probe socket has no address'))));
    });
  });
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // the group is gone already
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (!exited(child)) {
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.stdin?.end(); // the watchdog exits at once on EOF
    killGroup(child, 'SIGTERM');
    const timer = new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS));
    await Promise.race([gone, timer]);
    if (!exited(child)) {
      killGroup(child, 'SIGKILL');
      await gone;
    }
  }
  killGroup(child, 'SIGKILL'); // anything left in the group (a reloader's child, say)
  cleanup.delete(child);
}

/**
 * Process-wide cleanup registry: the one piece of module state, unavoidable because exit
 * and signal handlers are process-wide. Hooks are installed while an emulator runs and removed
 * when the last one stops.
 */
const cleanup = new (class {
  private readonly children = new Set<ChildProcess>();
  private readonly signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

  add(child: ChildProcess): void {
    if (this.children.size === 0) this.hook();
    this.children.add(child);
  }

  delete(child: ChildProcess): void {
    if (this.children.delete(child) && this.children.size === 0) this.unhook();
  }

  /** Synchronous: the 'exit' event (also emitted on a crash) allows no waiting. */
  private readonly killAll = () => {
    for (const child of this.children) killGroup(child, 'SIGKILL');
  };

  private readonly onSignal = (signal: NodeJS.Signals) => {
    this.killAll();
    this.unhook();
    // We only clean up; the signal's usual effect is left to others or to the default.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };

  private hook(): void {
    process.on('exit', this.killAll);
    for (const s of this.signals) process.on(s, this.onSignal);
  }

  private unhook(): void {
    process.removeListener('exit', this.killAll);
    for (const s of this.signals) process.removeListener(s, this.onSignal);
  }
})();
