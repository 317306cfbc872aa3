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
import { tidemarkCli, until, userEnv } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tidemark.mjs');
const JOB = join(ROOT, 'test', 'local', 'fixtures', 'cancelable-job.ts');
const env = userEnv();
const cwd = mkdtempSync(join(tmpdir(), 'tidemark-cancel-'));

const tidemark = (args: string[]) => tidemarkCli(args, { cwd, env, timeoutMs: 60_000 });

let dev: ChildProcess | undefined;
let devErr = '';
afterAll(() => {
  dev?.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

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
