/**
 * `tidemark restore` with changed code (an upgrade), on the memory adapters: the state
 * compatibility check speaks before any state is touched, a new operator starts empty, and
 * `--allow-non-restored-state` drops the state of an operator the new job lacks.
 */
import { describe, expect, it } from 'vitest';
import type { AwsPorts } from '../../lib/adapters/aws/index.js';
import { StateCompatibilityError } from '../../lib/core/errors.js';
import { blobKeys } from '../../lib/core/wire/storage-keys.js';
import { updateJob } from '../../lib/runtime/job-records.js';
import { RecoveryManager } from '../../lib/runtime/recovery-manager.js';
import { parseCommand } from '../../local/cli-options.js';
import { UsageError } from '../../local/cli-errors.js';
import { restoreCommand } from '../../local/restore-command.js';
import type { Target } from '../../local/target.js';
import { memoryWorld, type World } from '../support/memory-world.js';
import { KEYS, RECORDS, upgradeJob, type Count } from './fixtures/upgrade/versions.js';

const fixture = (v: string) => `test/local/fixtures/upgrade/${v}.ts`;

const memoryTarget = (world: World): Target => ({
  where: 'memory',
  jobs: async () => [world.graph.name],
  portsFor: () => world.memory as unknown as AwsPorts,
  locate: (_job, key) => key,
  prepare: async () => {},
});

/** v1 of job upgrade-cmd, run part way and stopped with savepoint `v1`. */
async function stoppedAtSavepoint(): Promise<World> {
  const world = await memoryWorld(upgradeJob('v1', 'cmd').build());
  for (let i = 0; i < 8; i++) await world.round();
  await updateJob(world.memory.manifest, world.graph.name, (j) => ({ ...j, savepointRequest: { name: 'v1', stop: true } }));
  for (let i = 0; i < 50 && (await world.job())!.status !== 'STOPPED'; i++) await world.round();
  expect((await world.job())!.status).toBe('STOPPED');
  return world;
}

async function restore(world: World, version: string, extra: { allowNonRestoredState?: boolean } = {}) {
  const lines: string[] = [];
  const code = await restoreCommand(memoryTarget(world), { jobFile: fixture(version), from: 'v1', wait: false, ...extra }, { json: false, out: (l) => lines.push(l) });
  return { code, lines };
}

const maxBy = (records: Count[], f: (c: Count) => number | undefined) => {
  const out = new Map<string, number>();
  for (const r of records) out.set(r.key, Math.max(out.get(r.key) ?? 0, f(r) ?? 0));
  return out;
};

describe('tidemark restore with upgraded code', () => {
  it('starts a new downstream operator empty, says so, and keeps the state of the others', async () => {
    const v1 = await stoppedAtSavepoint();
    const before = maxBy(await v1.committed<Count>('out'), (c) => c.n);
    expect([...before.values()].some((n) => n > 0 && n < RECORDS / KEYS)).toBe(true);
    expect(await v1.memory.blobs.get(blobKeys.stateDescriptor(v1.graph.name, 1 as never))).toContain('"count"');

    const { code, lines } = await restore(v1, 'v2');
    expect(code).toBe(0);
    const sp = (await v1.memory.manifest.listCheckpoints(v1.graph.name)).find((c) => c.savepoint === 'v1')!;
    expect(lines).toEqual([
      'operator "seen" is new: it starts with empty state (seen: value)',
      `job upgrade-cmd: generation 2 RUNNING, restored from checkpoint ${sp.id}`,
    ]);

    const v2 = await memoryWorld(upgradeJob('v2', 'cmd').build(), { on: v1 });
    await v2.runToEnd();
    const after = (await v2.committed<Count>('out')).filter((c) => c.seen !== undefined);
    const counts = maxBy(after, (c) => c.n);
    const seen = maxBy(after, (c) => c.seen);
    for (let k = 0; k < KEYS; k++) {
      const key = `k${k}`;
      // count's state was restored: it ends at every record of its key, once each …
      expect(counts.get(key)).toBe(RECORDS / KEYS);
      // … and seen started empty: it saw only what came after the savepoint.
      expect(seen.get(key)).toBe(RECORDS / KEYS - (before.get(key) ?? 0));
    }
  });

  it('refuses an operator whose state the new job lacks before touching anything, and drops it with --allow-non-restored-state', async () => {
    const v1 = await stoppedAtSavepoint();
    const job = await v1.job();
    const sp = (await v1.memory.manifest.listCheckpoints(v1.graph.name)).find((c) => c.savepoint === 'v1')!;
    const refused = restore(v1, 'v3');
    await expect(refused).rejects.toThrow(StateCompatibilityError);
    await expect(refused).rejects.toThrow(
      `operator "count" in savepoint v1 holds state (accumulator: aggregate-accumulator) that the new job has no operator for; restore with --allow-non-restored-state to drop it`,
    );
    expect(await v1.job()).toEqual(job);
    // The recovery manager checks too, so no restore asked for bypasses the check.
    const direct = new RecoveryManager(upgradeJob('v3', 'cmd').build(), v1.memory).restore({ request: { kind: 'savepoint', name: 'v1' }, reason: 'upgrade' });
    await expect(direct).rejects.toThrow('operator "count" in savepoint v1 holds state (accumulator: aggregate-accumulator)');
    expect(await v1.job()).toEqual(job);

    const { code, lines } = await restore(v1, 'v3', { allowNonRestoredState: true });
    expect(code).toBe(0);
    expect(lines).toEqual([
      'operator "count" of savepoint v1 is not in the new job: its state (accumulator: aggregate-accumulator) is dropped (--allow-non-restored-state)',
      `job upgrade-cmd: generation 2 RUNNING, restored from checkpoint ${sp.id}`,
    ]);
    const v3 = await memoryWorld(upgradeJob('v3', 'cmd').build(), { on: v1 });
    await v3.runToEnd();
    expect((await v3.job())!.status).toBe('FINISHED');
  });

  it('takes --allow-non-restored-state for restore only', () => {
    const parsed = parseCommand(['restore', 'job.ts', '--from', 'v1', '--allow-non-restored-state']);
    expect(parsed).toMatchObject({ kind: 'restore', args: { allowNonRestoredState: true } });
    expect(() => parseCommand(['run', 'job.ts', '--allow-non-restored-state'])).toThrow(UsageError);
    expect(() => parseCommand(['run', 'job.ts', '--allow-non-restored-state'])).toThrow(
      '--allow-non-restored-state is an option of `tidemark restore`, not of `tidemark run`',
    );
  });
});
