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
import { tidemarkCli, until, userEnv } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tidemark.mjs');
const JOB = join(ROOT, 'examples', 'clicks.ts');
const ENDLESS = join(ROOT, 'test', 'local', 'fixtures', 'endless-job.ts');
const env = userEnv();
/** The directory both "terminals" of a test work in: its own, so its .tidemark/ is too. */
let cwd = '';
const dirs: string[] = [];
const freshDirectory = () => {
  cwd = mkdtempSync(join(tmpdir(), 'tidemark-ops-'));
  dirs.push(cwd);
};

const tidemark = (args: string[]) => tidemarkCli(args, { cwd, env, timeoutMs: 60_000 });

let dev: ChildProcess | undefined;
afterAll(() => {
  dev?.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Starts `tidemark dev` on a job in a fresh directory; resolves once `ready` appears on its stderr. */
async function startDev(jobFile: string, ready: (stderr: string) => boolean): Promise<ChildProcess> {
  freshDirectory();
  const child = spawn(process.execPath, [BIN, 'dev', jobFile], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (ready(stderr)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`dev exited early (${code}):\n${stderr}`)));
  });
  return child;
}

describe('tidemark dev with list, status and checkpoints from another terminal', () => {
  it('reports the running dev job in Flink terms, and stops cleanly on Ctrl-C', async () => {
    dev = await startDev(JOB, (stderr) => stderr.includes('the emulator stays up'));
    expect(existsSync(join(cwd, '.tidemark', 'dev.json'))).toBe(true);

    const list = JSON.parse((await tidemark(['list', '--json'])).stdout) as { target: string; jobs: { job: string; status: string }[] };
    expect(list.target).toMatch(/^tidemark dev \(pid \d+\) at http:\/\/127\.0\.0\.1:\d+$/);
    expect(list.jobs).toContainEqual(expect.objectContaining({ job: 'clicks', status: 'FINISHED' }));

    const status = JSON.parse((await tidemark(['status', JOB, '--json'])).stdout) as { status: string; origin: string; generation: number; stages: { stage: string; parallelism: number; visible: number }[] };
    expect(status).toMatchObject({ status: 'FINISHED', origin: 'submitted', generation: 1 });
    // Named by its file, the job's stages are known: all there, queues drained.
    expect(status.stages.map((st) => [st.stage, st.parallelism, st.visible])).toEqual([
      ['clicks', 1, 0],
      ['per-minute', 2, 0],
      ['late-clicks', 2, 0],
      ['sessions', 2, 0],
    ]);
    expect((JSON.parse((await tidemark(['status', '--job', 'clicks', '--json'])).stdout) as { stages: unknown }).stages).toBeNull();
    // As text, each stage with what its subtasks acknowledged at the last checkpoint: an
    // event-time job that ran to the end has its watermark at the end of input.
    const text = await tidemark(['status', JOB]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/stage per-minute \(.*\): parallelism 2, queue 0 waiting, 0 in flight; at checkpoint \d+: \d+ records in, \d+ out, watermark end of input/);

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

    const output = JSON.parse((await tidemark(['output', JOB, 'session-counts', '--limit', '5', '--json'])).stdout) as { total: number; records: unknown[] };
    expect(output.total).toBe(27);
    expect(output.records).toHaveLength(5);
    const noSink = await tidemark(['output', JOB, 'nope']);
    expect(noSink.code).toBe(2);
    expect(noSink.stderr.trim()).toBe('tidemark: job clicks has no sink "nope" (its sinks: minute-counts, late-clicks, session-counts)');

    const missing = await tidemark(['status', '--job', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toMatch(/^tidemark: no job nope on tidemark dev/);

    const exit = new Promise<number | null>((resolve) => dev!.once('exit', resolve));
    dev.kill('SIGINT');
    expect(await exit).toBe(0);
    expect(existsSync(join(cwd, '.tidemark', 'dev.json'))).toBe(false);
  }, 120_000);

  it('takes a savepoint of a running job, refuses a second of the same name, and stops it with a final one', async () => {
    dev = await startDev(ENDLESS, (stderr) => stderr.includes('tidemark dev: http'));
    await until('a checkpoint completed', async () => {
      const r = await tidemark(['checkpoints', '--job', 'endless', '--json']);
      return r.code === 0 && (JSON.parse(r.stdout) as CheckpointStatistics).counts.completed > 0;
    });
    const sp = await tidemark(['savepoint', '--job', 'endless', '--name', 'sp1', '--json']);
    expect(sp.code, sp.stderr).toBe(0);
    const taken = JSON.parse(sp.stdout) as { name: string; checkpoint: number; location: string; status: string };
    expect(taken).toMatchObject({ name: 'sp1', status: 'RUNNING' });
    expect(taken.location).toMatch(new RegExp(`^s3://tidemark-endless/jobs/endless/checkpoints/0*${taken.checkpoint}/`));

    const again = await tidemark(['savepoint', '--job', 'endless', '--name', 'sp1']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`tidemark: job endless already has a savepoint named sp1 (checkpoint ${taken.checkpoint}): choose another --name`);

    const stop = await tidemark(['stop', '--job', 'endless', '--savepoint', 'final', '--json']);
    expect(stop.code, stop.stderr).toBe(0);
    const stopped = JSON.parse(stop.stdout) as { checkpoint: number; status: string };
    expect(stopped.status).toBe('STOPPED');
    expect(stopped.checkpoint).toBeGreaterThan(taken.checkpoint);
    const history = JSON.parse((await tidemark(['checkpoints', ENDLESS, '--json'])).stdout) as CheckpointStatistics;
    expect(history.history.find((h) => h.id === stopped.checkpoint)).toMatchObject({ status: 'COMPLETED', isSavepoint: true, savepoint: 'final', stop: true });

    const listed = JSON.parse((await tidemark(['savepoints', '--job', 'endless', '--json'])).stdout) as { savepoints: { name: string; checkpoint: number; stop: boolean }[] };
    expect(listed.savepoints.map((x) => [x.name, x.checkpoint, x.stop])).toEqual([
      ['final', stopped.checkpoint, true],
      ['sp1', taken.checkpoint, false],
    ]);

    const late = await tidemark(['savepoint', '--job', 'endless']);
    expect(late.code).toBe(1);
    expect(late.stderr.trim()).toBe('tidemark: job endless is STOPPED, not RUNNING: a savepoint needs a running job');

    // Restore from what is not there: refused, nothing written.
    const nothing = await tidemark(['restore', ENDLESS, '--from', 'no-such-savepoint']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr.trim()).toBe('tidemark: job endless has no savepoint no-such-savepoint to restore from (see tidemark checkpoints)');
    expect(JSON.parse((await tidemark(['status', '--job', 'endless', '--json'])).stdout)).toMatchObject({ status: 'STOPPED', generation: 1 });

    // From the final savepoint, its keyed stages at parallelism 3: a new generation runs on.
    const restore = await tidemark(['restore', ENDLESS, '--from', 'final', '--parallelism', '3', '--json']);
    expect(restore.code, restore.stderr).toBe(0);
    expect(JSON.parse(restore.stdout)).toMatchObject({ generation: 2, status: 'RUNNING', from: `checkpoint ${stopped.checkpoint}` });
    expect(JSON.parse((await tidemark(['status', '--job', 'endless', '--json'])).stdout)).toMatchObject({ origin: `savepoint final (checkpoint ${stopped.checkpoint})` });
    const rescaled = JSON.parse((await tidemark(['status', ENDLESS, '--json'])).stdout) as { stages: { stage: string; parallelism: number }[] };
    expect(rescaled.stages.map((st) => [st.stage, st.parallelism])).toEqual([['lines', 2], ['counts', 3]]);
    await until('generation 2 completed a checkpoint at the new parallelism', async () => {
      const r = JSON.parse((await tidemark(['checkpoints', '--job', 'endless', '--json'])).stdout) as CheckpointStatistics;
      // The source stage keeps its 2 subtasks; the keyed stage now has 3.
      return r.history.some((h) => h.generation === 2 && h.status === 'COMPLETED' && h.numSubtasks === 2 + 3);
    });
    const again2 = await tidemark(['stop', '--job', 'endless', '--json']);
    expect(JSON.parse(again2.stdout)).toMatchObject({ status: 'STOPPED' });

    // sp1 is no one's base: it goes, objects and all; a name that is not there is refused.
    const dispose = JSON.parse((await tidemark(['dispose', 'endless', 'sp1', '--json'])).stdout) as { checkpoint: number; objects: number };
    expect(dispose).toMatchObject({ checkpoint: taken.checkpoint });
    expect(dispose.objects).toBeGreaterThan(0);
    const left = JSON.parse((await tidemark(['savepoints', '--job', 'endless', '--json'])).stdout) as { savepoints: { name: string }[] };
    expect(left.savepoints.map((x) => x.name)).not.toContain('sp1');
    const gone = await tidemark(['dispose', 'endless', 'sp1']);
    expect(gone.code).toBe(1);
    expect(gone.stderr.trim()).toBe('tidemark: job endless has no savepoint named sp1 (see tidemark savepoints)');

    const exit = new Promise<number | null>((resolve) => dev!.once('exit', resolve));
    dev.kill('SIGINT');
    expect(await exit).toBe(0);
  }, 120_000);
});
