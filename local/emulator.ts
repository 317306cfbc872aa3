/**
 * The embedded AWS emulator (DESIGN §9). `AWS_ENDPOINT_URL` wins (LocalStack or anything
 * compatible, used as is); otherwise moto in server mode, installed by the project into its
 * own virtualenv `.venv/` on first use (pinned in emulator-requirements.txt), on a free
 * loopback port.
 *
 * What must hold: no moto outlives its owner. It runs in its own process group, which
 * `stop()`, process exit (including a crash on an uncaught error), SIGINT, SIGTERM and SIGHUP
 * kill; and it exits by itself when its stdin closes, so even a SIGKILLed owner leaves no
 * orphan behind.
 *
 * moto 5.2.5 as the callers must know it:
 * - it checks conditions without locks (DynamoDB conditional puts, S3 `If-None-Match: *`,
 *   SQS FIFO group locking), so racing writers could both win and concurrent ReceiveMessage
 *   callers on one FIFO queue broke per-group order (17 of 300 deliveries out of order with
 *   4 receivers). emulator-server.py runs each service's requests one at a time, which gives
 *   AWS's atomicity back (0 of 300, 0 double winners in 2,000 races). SQS long polls are the
 *   exception, and an external endpoint (AWS_ENDPOINT_URL) gets none of this;
 * - FIFO deduplication ends when a message is deleted (SQS keeps the id for 5 minutes), so a
 *   resend after delete is delivered again: downstream seq dedup must drop it;
 * - every SQS call costs time proportional to queue depth: keep queues short, poll gently.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { RetryableError } from '../lib/core/errors.js';
import { EmulatorError, ensureVenv } from './emulator-venv.js';

export { EmulatorError } from './emulator-venv.js';

export interface Emulator {
  readonly endpoint: string;
  readonly kind: 'external' | 'moto';
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Progress and status lines (install, start); silent when absent. */
  readonly log?: (line: string) => void;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HEALTH_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 3_000;
const START_ATTEMPTS = 3;

/** The environment the AWS SDK (and the AWS CLI) needs to talk to an emulator. */
export function emulatorEnv(endpoint: string): Record<string, string> {
  return { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_REGION: 'us-east-1' };
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
      return await startMoto(python, version, log);
    } catch (e) {
      // Another process can take the port between our probe and moto's bind: try another.
      if (!(e instanceof PortTakenError) || attempt >= START_ATTEMPTS) throw e;
    }
  }
}

/** Another process bound moto's port first: starting again, on another port, may work. */
class PortTakenError extends RetryableError {
  readonly code = 'PORT_TAKEN';
}

const REACH_TIMEOUT_MS = 5_000;

/**
 * An endpoint the user named must answer before anything is provisioned on it: otherwise
 * every call would fail its SDK attempts and the run would end on whichever came first.
 * A TCP connection is enough (LocalStack and moto differ in what they serve at `/`).
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

/** moto's server with a stdin watchdog and atomic requests: see emulator-server.py. */
const SERVER_SCRIPT = 'local/emulator-server.py';

async function startMoto(python: string, version: string, log: (line: string) => void): Promise<Emulator> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const started = Date.now();
  const child = spawn(python, [join(ROOT, SERVER_SCRIPT), '-H', '127.0.0.1', '-p', String(port)], {
    cwd: ROOT,
    detached: true, // its own process group, so that killing the group takes every descendant
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) {
    await new Promise((resolve) => child.once('error', resolve));
    throw new EmulatorError(`could not start ${python}: the virtualenv looks broken; delete .venv/ and retry`);
  }
  cleanup.add(child);
  const tail = keepTail(child);
  // The emulator must never keep its owner alive: the owner's exit is what stops it.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as { unref?: () => void }).unref?.();
  try {
    await waitHealthy(endpoint, child, tail);
  } catch (e) {
    await stopChild(child);
    if (tail.join('\n').includes('Address already in use')) throw new PortTakenError(`${endpoint}: the port was taken before moto could listen on it`, { cause: e });
    throw e;
  }
  log(`moto ${version} listening on ${endpoint} (started in ${Date.now() - started} ms)`);
  return { endpoint, kind: 'moto', stop: () => stopChild(child) };
}

/** Keeps the last lines moto printed (for error messages) and drains its pipes. */
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
      throw new EmulatorError(`moto exited during start (code ${child.exitCode ?? child.signalCode}):\n${tail.join('\n')}`);
    }
    try {
      const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new EmulatorError(`moto did not answer on ${endpoint} within ${HEALTH_TIMEOUT_MS / 1000} s:\n${tail.join('\n')}`);
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
 * and signal handlers are process-wide. Hooks are installed while a moto runs and removed
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
