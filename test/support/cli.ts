/**
 * The `tidemark` CLI as a user runs it from a shell, for the tests that drive it as a child
 * process: the project's bin, a chosen directory (each test's own, so its .tidemark/ is too)
 * and an environment with nothing pointing at another endpoint or account.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const TIDEMARK_BIN = join(PROJECT_ROOT, 'bin', 'tidemark.mjs');

/** The user's shell: the test process's environment without AWS_*, CDK_* and TIDEMARK_* variables. */
export const userEnv = (): Record<string, string> =>
  Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !/^(AWS_|CDK_|TIDEMARK_)/.test(e[0])));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** @default the project root */
  readonly cwd?: string;
  /** @default userEnv() */
  readonly env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL) after this long: set it below the test's own timeout, since a CLI left running would keep its emulator and load the machine. */
  readonly timeoutMs: number;
}

export function tidemarkCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [TIDEMARK_BIN, ...args], {
      cwd: options.cwd ?? PROJECT_ROOT,
      env: options.env ?? userEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Polls `done` every 200 ms until it holds; throws naming `what` after `timeoutMs`. */
export async function until(what: string, done: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
