/**
 * Shipping a new version of a running job, as a Flink user does it and from two terminals:
 * `tidemark dev` runs v1 of a word count; `checkpoints --json` shows completed checkpoints
 * with per-subtask detail; a savepoint is taken and the job stopped with a final one; v2 (an
 * operator added downstream, whose state is new) is restored from that savepoint at
 * parallelism 3, and followed to the end with the exactly-once check over the whole run;
 * `output` then reads every word counted exactly once across the upgrade.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { CheckpointDetail, CheckpointStatistics } from '../../lib/core/checkpoint-stats.js';
import type { RunSummary } from '../../local/run-summary.js';
import { line, LINES, type WordCount } from './fixtures/upgrade-words.js';
import { tidemarkCli, until, userEnv } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'tidemark.mjs');
const V1 = join(ROOT, 'test', 'e2e', 'fixtures', 'upgrade-words-v1.ts');
const V2 = join(ROOT, 'test', 'e2e', 'fixtures', 'upgrade-words-v2.ts');
const JOB = 'upgrade-words';
const env = userEnv();
const cwd = mkdtempSync(join(tmpdir(), 'tidemark-upgrade-'));

const tidemark = (args: string[]) => tidemarkCli(args, { cwd, env, timeoutMs: 170_000 });

async function json<T>(args: string[]): Promise<T> {
  const r = await tidemark([...args, '--json']);
  if (r.code !== 0) throw new Error(`tidemark ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

let dev: ChildProcess | undefined;
let devLog = '';
afterAll(() => {
  dev?.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

function startDev(jobFile: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, 'dev', jobFile], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d) => {
      devLog += d;
      if (devLog.includes('tidemark dev: http')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`dev exited early (${code}):\n${devLog}`)));
  });
}

/** What a word's count must end at: how often the input holds it. */
function expectedCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < LINES; i++) for (const w of line(i).split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

describe('an upgrade with state: savepoint, stop, restore with new code at another parallelism', () => {
  it('carries every count across the upgrade, exactly once', async () => {
    dev = await startDev(V1);

    await until('a checkpoint completed', async () => (await json<CheckpointStatistics>(['checkpoints', '--job', JOB])).counts.completed > 0);
    const stats = await json<CheckpointStatistics>(['checkpoints', V1]);
    const completed = stats.history.find((h) => h.status === 'COMPLETED')!;
    expect(completed.numAcknowledgedSubtasks).toBe(completed.numSubtasks);
    const detail = await json<CheckpointDetail>(['checkpoints', '--job', JOB, '--id', String(completed.id)]);
    expect(detail.subtasks).toHaveLength(completed.numSubtasks);
    for (const s of detail.subtasks) {
      expect(s).toMatchObject({ acknowledged: true });
      // Recorded by the runtime at snapshot time: the synchronous and asynchronous parts.
      expect(s.syncDuration).toBeGreaterThanOrEqual(0);
      expect(s.asyncDuration).toBeGreaterThanOrEqual(0);
    }

    const sp = await json<{ name: string; checkpoint: number }>(['savepoint', '--job', JOB, '--name', 'before-upgrade']);
    expect(sp.name).toBe('before-upgrade');

    // New code while v1 still runs would meet v1's messages: refused, nothing changes.
    const early = await tidemark(['restore', V2, '--from', 'before-upgrade']);
    expect(early.code).toBe(1);
    expect(early.stderr.trim()).toMatch(/^tidemark: job upgrade-words is RUNNING in tidemark dev with the code of .*upgrade-words-v1\.ts: stop it first \(tidemark stop --job upgrade-words --savepoint NAME\), then restore .*upgrade-words-v2\.ts from that savepoint$/);

    const stopped = await json<{ status: string; checkpoint: number }>(['stop', '--job', JOB, '--savepoint', 'v1-final']);
    expect(stopped.status).toBe('STOPPED');
    expect(stopped.checkpoint).toBeGreaterThan(sp.checkpoint);

    const restored = await tidemark(['restore', V2, '--from', 'v1-final', '--parallelism', '3', '--wait', '--json']);
    expect(restored.code, restored.stderr).toBe(0);
    const summary = JSON.parse(restored.stdout) as RunSummary;
    expect(summary.status).toBe('FINISHED');
    expect(summary.generation).toBe(2);
    expect(summary.exactlyOnce).toMatchObject({ ok: true, differences: [] });
    expect(devLog).toMatch(/tidemark dev: job upgrade-words now runs the code of .*upgrade-words-v2\.ts/);

    type StageStatus = { stage: string; parallelism: number; recordsIn: number | null; recordsOut: number | null };
    const status = await json<{ origin: string; stages: StageStatus[] }>(['status', V2]);
    expect(status.origin).toBe(`savepoint v1-final (checkpoint ${stopped.checkpoint})`);
    expect(status.stages.filter((s) => s.stage !== 'lines').map((s) => s.parallelism)).toEqual([3, 3, 3]);
    // As of generation 2's last checkpoint: what it took in after the savepoint, and sent on.
    const stage = (id: string) => status.stages.find((s) => s.stage === id)!;
    expect(stage('lines').recordsIn).toBeGreaterThan(0);
    expect(stage('lines').recordsIn).toBeLessThan(LINES);
    expect(stage('peak').recordsIn).toBe(stage('peak').recordsOut);
    expect(stage('counts').recordsOut).toBe(stage('peak').recordsIn);

    const output = await json<{ total: number; records: WordCount[] }>(['output', V2, 'out', '--limit', String(2 * LINES)]);
    expect(output.total).toBe(2 * LINES);
    const final = new Map<string, number>();
    for (const r of output.records) final.set(r.word, Math.max(final.get(r.word) ?? 0, r.count));
    expect(final).toEqual(expectedCounts());
    // Every count from 1 to the word's total, once: none lost or repeated at the upgrade.
    const seen = output.records.map((r) => `${r.word}:${r.count}`);
    expect(new Set(seen).size).toBe(seen.length);

    const exit = new Promise<number | null>((resolve) => dev!.once('exit', resolve));
    dev.kill('SIGINT');
    expect(await exit).toBe(0);
  }, 180_000);
});
