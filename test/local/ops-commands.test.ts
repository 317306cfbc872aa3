/**
 * `tidemark dev` and the read-only operations commands, as a user runs them from two
 * terminals: `dev` runs the clicks example on its emulator and stays up; `list`, `status`
 * and `checkpoints` (also `--id`) find it through .tidemark/dev.json in the same directory
 * and report in Flink's terms; Ctrl-C stops it and nothing is left behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckpointDetail, CheckpointStatistics } from '../../lib/core/checkpoint-stats.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tidemark.mjs');
const JOB = join(ROOT, 'examples', 'clicks.ts');
const cwd = mkdtempSync(join(tmpdir(), 'tidemark-ops-'));
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_|TIDEMARK_)/.test(k)));

function tidemark(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let dev: ChildProcess | undefined;
afterAll(() => {
  dev?.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

describe('tidemark dev with list, status and checkpoints from another terminal', () => {
  it('reports the running dev job in Flink terms, and stops cleanly on Ctrl-C', async () => {
    dev = spawn(process.execPath, [BIN, 'dev', JOB], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const ended = new Promise<void>((resolve, reject) => {
      dev!.stderr!.on('data', (d) => {
        stderr += d;
        if (stderr.includes('the emulator stays up')) resolve();
      });
      dev!.once('exit', (code) => reject(new Error(`dev exited early (${code}):\n${stderr}`)));
    });
    await ended;
    expect(existsSync(join(cwd, '.tidemark', 'dev.json'))).toBe(true);

    const list = JSON.parse((await tidemark(['list', '--json'])).stdout) as { target: string; jobs: { job: string; status: string }[] };
    expect(list.target).toMatch(/^tidemark dev \(pid \d+\) at http:\/\/127\.0\.0\.1:\d+$/);
    expect(list.jobs).toContainEqual(expect.objectContaining({ job: 'clicks', status: 'FINISHED' }));

    const status = JSON.parse((await tidemark(['status', JOB, '--json'])).stdout) as { status: string; origin: string; generation: number };
    expect(status).toMatchObject({ status: 'FINISHED', origin: 'submitted', generation: 1 });

    const stats = JSON.parse((await tidemark(['checkpoints', JOB, '--json'])).stdout) as CheckpointStatistics;
    expect(stats.counts.completed).toBeGreaterThanOrEqual(1);
    expect(stats.counts.triggered).toBeGreaterThanOrEqual(stats.counts.completed);
    expect(stats.history[0]).toMatchObject({ status: 'COMPLETED', numSubtasks: 7, numAcknowledgedSubtasks: 7 });
    expect(stats.config?.mode).toBe('exactly-once');
    const id = stats.history[0]!.id;

    const detail = JSON.parse((await tidemark(['checkpoints', '--job', 'clicks', '--id', String(id), '--json'])).stdout) as CheckpointDetail;
    expect(detail.subtasks).toHaveLength(7);
    for (const s of detail.subtasks) {
      expect(s.acknowledged).toBe(true);
      expect(s.startDelay).toBeGreaterThanOrEqual(0);
      expect(s.checkpointedSize).toBeGreaterThan(0);
    }

    const missing = await tidemark(['status', '--job', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^tidemark: no job nope on tidemark dev/);

    const exit = new Promise<number | null>((resolve) => dev!.once('exit', resolve));
    dev.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(existsSync(join(cwd, '.tidemark', 'dev.json'))).toBe(false);
  }, 120_000);
});
