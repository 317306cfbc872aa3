/**
 * Read-modify-write of the job item with optimistic concurrency: the write is conditional
 * on the version read, and a lost race reads again. `change` returns null to write nothing.
 */
import { TransientStorageError } from '../core/errors.js';
import type { JobRecord } from '../core/manifest.js';
import type { ManifestStore } from '../ports/manifest-store.js';

const MAX_ATTEMPTS = 25;

export async function updateJob(
  manifest: ManifestStore,
  job: string,
  change: (current: JobRecord) => JobRecord | null,
): Promise<JobRecord | null> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await manifest.getJob(job);
    if (!current) return null;
    const next = change(current);
    if (!next) return null;
    if (await manifest.putJob(next, current.version)) return { ...next, version: current.version + 1 };
  }
  throw new TransientStorageError(`update job item ${job}: too much contention`);
}
