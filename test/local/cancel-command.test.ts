/**
 * `tidemark cancel` as a user runs it from a second terminal next to `tidemark dev`: the job
 * ends CANCELED at once, without a savepoint; nothing more is triggered and its queues drain
 * (sources stop reading, what was in flight is dropped); a second cancel is refused naming
 * the status; `restore --from latest` brings it back RUNNING from a checkpoint it kept.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckpointStatistics } from '../../lib/core/checkpoint-stats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tidemark.mjs');
const JOB = join(ROOT, 'test', 'local', 'fixtures', 'cancelable-job.ts');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_|TIDEMARK_)/.test(k)));
const cwd = mkdtempSync(join(tmpdir(), 'tidemark-cancel-'));

function tidemark(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // Killed before the test's own timeout: a CLI left running would keep its emulator and load the machine.
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dev: ChildProcess | undefined;
let devErr = '';
afterAll(() => {
  dev?.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const checkpoints = async () => JSON.parse((await tidemark(['checkpoints', '--job', 'cancelable', '--json'])).stdout) as CheckpointStatistics;
const status = async () => JSON.parse((await tidemark(['status', JOB, '--json'])).stdout) as { status: string; generation: number; stages: { visible: number; inFlight: number }[] };

describe('tidemark cancel', () => {
  it('cancels a running job without a savepoint, refuses a second cancel, and restores it from its latest checkpoint', async () => {
    dev = spawn(process.execPath, [BIN, 'dev', JOB], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    dev.stderr!.on('data', (d) => (devErr += d));
    await until('dev is up', async () => devErr.includes('tidemark dev: http'));
    await until('a checkpoint completed', async () => {
      const r = await tidemark(['checkpoints', '--job', 'cancelable', '--json']);
      return r.code === 0 && (JSON.parse(r.stdout) as CheckpointStatistics).counts.completed > 0;
    });

    const cancel = await tidemark(['cancel', '--job', 'cancelable', '--json']);
    expect(cancel.code, cancel.stderr).toBe(0);
    const canceled = JSON.parse(cancel.stdout) as { job: string; status: string; generation: number; aborted: number[]; latestCheckpoint: number };
    expect(canceled).toMatchObject({ job: 'cancelable', status: 'CANCELED', generation: 1 });
    expect(canceled.latestCheckpoint).toBeGreaterThan(0);
    const after = await checkpoints();
    expect(after.counts.inProgress).toBe(0);
    expect((await status()).status).toBe('CANCELED');
    const listed = JSON.parse((await tidemark(['list', '--json'])).stdout) as { jobs: { job: string; status: string }[] };
    expect(listed.jobs).toContainEqual(expect.objectContaining({ job: 'cancelable', status: 'CANCELED' }));

    // The dev host runs on, but the job's sources stop and what was in flight is dropped:
    // its queues drain, and no checkpoint is triggered (that would put triggers in them).
    await until('the canceled job ran dry', async () => devErr.includes('the job ended') && (await status()).stages.every((s) => s.visible === 0 && s.inFlight === 0));
    const later = await checkpoints();
    expect(later.counts).toEqual(after.counts);
    expect(later.history.find((h) => h.status === 'COMPLETED')?.id).toBe(canceled.latestCheckpoint);

    const again = await tidemark(['cancel', JOB]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('tidemark: job cancelable is CANCELED, not RUNNING: there is nothing to cancel');
    const stop = await tidemark(['stop', '--job', 'cancelable']);
    expect(stop.stderr.trim()).toBe('tidemark: job cancelable is CANCELED, not RUNNING: a savepoint needs a running job');
    const missing = await tidemark(['cancel', '--job', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^tidemark: no job nope on tidemark dev/);

    const restore = await tidemark(['restore', JOB, '--from', 'latest', '--json']);
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ generation: 2, status: 'RUNNING', from: `checkpoint ${canceled.latestCheckpoint}` });
    await until('generation 2 completed a checkpoint', async () => (await checkpoints()).history.some((h) => h.generation === 2 && h.status === 'COMPLETED'));
    expect((await status()).status).toBe('RUNNING');

    const exit = new Promise<number | null>((resolve) => dev!.once('exit', resolve));
    dev.kill('SIGINT');
    expect(await exit).toBe(0);
  }, 180_000);
});
