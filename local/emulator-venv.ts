/**
 * Installs the embedded emulator into the project's own virtualenv `.venv/` (never a
 * MiniStack that happens to be on the machine): `python3 -m venv`, then `pip install -r` of the pinned
 * requirements. Skipped when the pinned versions are installed already.
 *
 * What must hold: two processes starting on a fresh checkout at once (two test runs, a test
 * run and the CLI) do not run pip into the same virtualenv together: an install holds a lock
 * directory inside `.venv/`, and the other waits for it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TerminalError, type CauseOption } from '../lib/core/errors.js';

export const REQUIREMENTS = 'local/emulator-requirements.txt';
const FIX = 'install python3 with venv and pip (Debian/Ubuntu: apt-get install python3 python3-venv), or set AWS_ENDPOINT_URL to a running LocalStack';
const LOCK_WAIT_MS = 15 * 60_000;

/** The emulator could not be installed or started; the message says how to fix it. */
export class EmulatorError extends TerminalError {
  readonly code = 'EMULATOR';
  constructor(message: string, options?: CauseOption) {
    super(message, options);
  }
}

/** The package the requirements install as the emulator. */
export const EMULATOR_PACKAGE = 'ministack';

/** `ministack==1.5.33` → `1.5.33`. */
export function pinnedVersion(requirements: string): string {
  const m = /^ministack==(\S+)/m.exec(requirements);
  if (!m) throw new EmulatorError(`${REQUIREMENTS} must pin ${EMULATOR_PACKAGE} (${EMULATOR_PACKAGE}==X.Y.Z)`);
  return m[1]!;
}

/** Returns the virtualenv's python and the emulator's version in it, installing it first when needed. */
export async function ensureVenv(root: string, log: (line: string) => void): Promise<{ python: string; version: string }> {
  const venv = join(root, '.venv');
  const python = join(venv, 'bin', 'python');
  const requirements = readFileSync(join(root, REQUIREMENTS), 'utf8');
  const version = pinnedVersion(requirements);
  // The marker is written after a complete `pip install -r` (so extras are there too).
  const marker = join(venv, '.tidemark-emulator');
  const ready = async () =>
    existsSync(marker) && readFileSync(marker, 'utf8') === requirements && (await installedVersion(python)) === version;
  if (await ready()) return { python, version };

  mkdirSync(venv, { recursive: true });
  const lock = join(venv, '.install-lock');
  await acquire(lock, log);
  try {
    if (await ready()) return { python, version }; // another process installed it while we waited
    const started = Date.now();
    if (!existsSync(python)) {
      log('emulator: creating the virtualenv .venv/');
      try {
        await run(process.env.TIDEMARK_PYTHON || 'python3', ['-m', 'venv', venv], log, 'python3 -m venv');
      } catch (e) {
        // A venv created without pip (no ensurepip) would make every later start fail at pip.
        for (const entry of readdirSync(venv)) if (entry !== '.install-lock') rmSync(join(venv, entry), { recursive: true, force: true });
        throw e;
      }
    }
    log(`emulator: installing ${EMULATOR_PACKAGE} ${version} into .venv/ (first use only, a few seconds)`);
    await run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', join(root, REQUIREMENTS)], log, 'pip install');
    writeFileSync(marker, requirements);
    log(`emulator: installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { python, version };
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The emulator's version installed in the virtualenv, or null. */
async function installedVersion(python: string): Promise<string | null> {
  if (!existsSync(python)) return null;
  const script = `import importlib.metadata as m\ntry:\n    print(m.version("${EMULATOR_PACKAGE}"))\nexcept Exception:\n    print("")`;
  const lines: string[] = [];
  try {
    await run(python, ['-c', script], (l) => lines.push(l), 'version check', true);
  } catch {
    return null;
  }
  return lines.join('').trim() || null;
}

/** Runs a command, forwarding pip's progress lines; fails with the fix when python is missing. */
function run(cmd: string, args: string[], log: (line: string) => void, what: string, capture = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > 30) tail.shift();
        if (capture) log(line);
        else if (/^(Collecting|Installing|Successfully)/.test(line)) log(`emulator: ${line.replace(/ \(from .*$/, '')}`);
      });
    }
    child.once('error', (e: NodeJS.ErrnoException) =>
      reject(new EmulatorError(e.code === 'ENOENT' ? `${cmd} not found: ${FIX}` : `${what} failed: ${e.message}`, { cause: e })),
    );
    child.once('close', (code) => {
      if (code === 0) return resolve();
      const output = tail.join('\n');
      const missing = /ensurepip|No module named (venv|pip)|venv.*not available/i.test(output);
      reject(new EmulatorError(`${what} failed (exit ${code})${missing ? `: ${FIX}` : ''}\n${output}`));
    });
  });
}

/** A lock directory (mkdir is atomic) holding the owner's pid; a dead owner's lock is taken over. */
async function acquire(lock: string, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  let told = false;
  while (true) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (!ownerAlive(lock)) {
      rmSync(lock, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new EmulatorError(`another process has been installing the emulator for too long; remove ${lock} if it is stale`);
    if (!told) log('emulator: waiting for another process that is installing it');
    told = true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function ownerAlive(lock: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lock, 'pid'), 'utf8'));
  } catch {
    return true; // just created, pid not written yet
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
