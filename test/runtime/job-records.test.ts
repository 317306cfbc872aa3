/**
 * updateJob under lost responses: a job-item write that landed while its caller saw an
 * error (or a refused condition) is recognised as landed — also when other writes landed
 * on top of it before the caller read the item back — and never applied twice.
 */
import { describe, expect, it } from 'vitest';
import { MemoryManifestStore } from '../../lib/adapters/memory/memory-manifest-store.js';
import { TransientStorageError } from '../../lib/core/errors.js';
import { generation, jobName } from '../../lib/core/ids.js';
import { initialJobRecord, type JobRecord } from '../../lib/core/manifest.js';
import { updateJob } from '../../lib/runtime/job-records.js';
import type { ManifestStore } from '../../lib/ports/manifest-store.js';

/** A manifest whose next `lose` putJob calls land, then let `meanwhile` write, then fail as `how`. */
function lossy(store: MemoryManifestStore, how: 'throw' | 'refuse', meanwhile: () => Promise<void>): ManifestStore & { lose: number } {
  const m = Object.create(store) as ManifestStore & { lose: number };
  m.lose = 0;
  m.putJob = async (record: JobRecord, expected: number | null) => {
    const ok = await store.putJob(record, expected);
    if (!ok || m.lose === 0) return ok;
    m.lose--;
    await meanwhile();
    if (how === 'throw') throw new TransientStorageError('PutItem (response lost)');
    return false; // the SDK's retry met our own write and failed its condition
  };
  return m;
}

const bump = (j: JobRecord) => ({ ...j, nextCheckpointId: j.nextCheckpointId + 1 });

describe('updateJob after a lost response', () => {
  for (const how of ['throw', 'refuse'] as const) {
    it(`(${how}) recognises its own write even after another writer's landed on top, and applies it once`, async () => {
      const store = new MemoryManifestStore();
      const job = jobName('j');
      await store.putJob({ ...initialJobRecord(job, generation(1)), status: 'RUNNING' }, null);
      const other = async () => void (await updateJob(store, job, (j) => ({ ...j, activity: j.activity + 1 })));
      const manifest = lossy(store, how, other);
      let calls = 0;
      manifest.lose = 1;
      const result = await updateJob(manifest, job, (j) => (calls++, j.nextCheckpointId === 1 ? bump(j) : null));
      expect(result).not.toBeNull();
      expect(calls).toBe(1);
      const stored = (await store.getJob(job))!;
      expect(stored.nextCheckpointId).toBe(2);
      expect(stored.activity).toBe(1);
    });
  }

  it('retries a write that really failed, and gives up after a few failures in a row', async () => {
    const store = new MemoryManifestStore();
    const job = jobName('k');
    await store.putJob({ ...initialJobRecord(job, generation(1)), status: 'RUNNING' }, null);
    let failures = 1;
    const flaky = Object.create(store) as ManifestStore;
    flaky.putJob = async (r, v) => {
      if (failures-- > 0) throw new TransientStorageError('PutItem');
      return store.putJob(r, v);
    };
    expect((await updateJob(flaky, job, bump))?.nextCheckpointId).toBe(2);
    failures = 10;
    await expect(updateJob(flaky, job, bump)).rejects.toThrow(TransientStorageError);
    expect((await store.getJob(job))!.nextCheckpointId).toBe(2);
  });
});
