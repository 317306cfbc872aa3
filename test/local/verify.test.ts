/**
 * The exactly-once check of a finished run (`tidemark run`'s last line): a run that matches
 * the reference is OK, one that lost a record FAILED, and a job whose user function reads
 * randomness is not checked at all: its reference cannot be reproduced, so a difference
 * would blame the engine for the job's own non-determinism.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collect, generator, job } from '../../lib/api/index.js';
import type { JobName } from '../../lib/core/ids.js';
import { blobKeys } from '../../lib/core/wire/storage-keys.js';
import { main } from '../../local/cli.js';
import { verifyRun } from '../../local/verify.js';
import { memoryWorld } from '../support/memory-world.js';

/** source → double → jitter → round → out; `jitter` adds noise when told to. */
function numbers(name: string, noise: () => number) {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 400 } });
  j.source('numbers', generator({ count: 40, batchSize: 10, make: (i) => i }))
    .map('double', (n) => n * 2)
    .map('jitter', (n) => n + noise())
    .map('round', (n) => Math.round(n * 1000) / 1000)
    .sink('out', collect());
  return j.build();
}

async function finishedRun(name: string, noise: () => number) {
  const world = await memoryWorld(numbers(name, noise));
  await world.runToEnd();
  return world;
}

describe('verifyRun', () => {
  it('is OK when the committed output is the reference', async () => {
    const world = await finishedRun('verify-ok', () => 0);
    const check = await verifyRun(world.memory, world.graph, undefined);
    expect(check).toEqual({ ok: true, verdict: 'ok', summary: '40 results, 40 records', differences: [] });
  });

  it('reports a lost record of a deterministic job as a difference', async () => {
    const world = await finishedRun('verify-lost', () => 0);
    // Lose the first record of the first committed part, as a broken sink would.
    const [marker] = await world.memory.blobs.list(blobKeys.committedPrefix('verify-lost' as JobName, 'out'));
    const part = (JSON.parse((await world.memory.blobs.get(marker!))!) as { parts: string[] }).parts[0]!;
    const [lost, ...kept] = JSON.parse((await world.memory.blobs.get(part))!) as number[];
    await world.memory.blobs.put(part, JSON.stringify(kept));
    const check = await verifyRun(world.memory, world.graph, undefined);
    expect(check.ok).toBe(false);
    expect(check.verdict).toBe('differs');
    expect(check.operator).toBeUndefined();
    expect(check.differences).toEqual([`out: missing 1× ${lost}`]);
  });

  it('names the operator that reads randomness instead of blaming the run', async () => {
    const world = await finishedRun('verify-random', () => Math.random());
    const check = await verifyRun(world.memory, world.graph, undefined);
    expect(check.ok).toBe(false);
    expect(check.verdict).toBe('non-deterministic');
    expect(check.operator).toBe('jitter');
  });
});

describe('tidemark run on a non-deterministic job', () => {
  afterEach(() => vi.restoreAllMocks());

  it('says the run was not checked, names the operator, and exits 1', async () => {
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      printed.push(String(chunk));
      return true;
    });
    const jobFile = fileURLToPath(new URL('../api/fixtures/random-job.ts', import.meta.url));
    const code = await main(['run', jobFile, '--memory']);
    vi.restoreAllMocks();
    const verdict = printed.join('').split('\n').filter((l) => l.startsWith('exactly-once:'));
    expect(verdict).toEqual([
      'exactly-once: NOT CHECKED — the job is non-deterministic: operator jitter gave different output on two sequential evaluations (user functions must not read the clock or randomness)',
    ]);
    expect(code).toBe(1);
  });
});
