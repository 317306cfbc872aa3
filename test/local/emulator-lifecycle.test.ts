/**
 * No emulator outlives its owner: when the process that started it is SIGKILLed (no exit
 * handler runs), the emulator's watchdog takes down its whole process group — itself and
 * the `node` processes running the functions — and removes its scratch directory.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';

const OWNER = 'test/local/fixtures/emulator-owner.ts';

/** pid and pgid of every live process, from ps. */
function processes(): { pid: number; ppid: number; pgid: number; args: string }[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,args='])
    .toString()
    .trim()
    .split('\n')
    .map((line) => {
      const [pid, ppid, pgid, ...args] = line.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), pgid: Number(pgid), args: args.join(' ') };
    });
}

async function until(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the embedded emulator', () => {
  it('leaves no process and no scratch directory behind when its owner is SIGKILLed', async () => {
    const owner = spawn(process.execPath, ['--import', 'tsx', OWNER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const endpoint = await new Promise<string>((resolve, reject) => {
      createInterface({ input: owner.stdout! }).once('line', resolve);
      owner.once('exit', (code) => reject(new Error(`the owner exited early (${code})`)));
    });
    expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const emulator = processes().find((p) => p.ppid === owner.pid && p.args.includes('emulator-server.py'))!;
    expect(emulator).toBeDefined();
    const group = () => processes().filter((p) => p.pgid === emulator.pgid);
    // The emulator and the function's worker, in a process group of their own.
    expect(group().map((p) => p.args).join('\n')).toMatch(/_worker\.js/);
    const scratch = /TIDEMARK_EMULATOR_TMP=([^\0]+)/.exec(readFileSync(`/proc/${emulator.pid}/environ`, 'utf8'))?.[1];
    expect(scratch && existsSync(scratch)).toBe(true);

    owner.kill('SIGKILL');
    await until('the emulator and its functions are gone', () => group().length === 0);
    expect(existsSync(scratch!)).toBe(false);
  }, 60_000);
});
