/**
 * Read-modify-write of the job item with optimistic concurrency: the write is conditional
 * on the version read, and a lost race reads again. `change` returns null to write nothing.
 *
 * A write can take effect while its caller sees a failure: the response was lost and the
 * call threw, or the SDK retried it and the retry's condition failed on our own write. So a
 * write that did not plainly succeed is settled by reading the item back: every write adds
 * a fresh id to the item's last few `recentWrites`, so finding one of this call's ids there
 * means it landed — even when other writes landed on top since.
 * Without that, a timer-token move or a checkpoint-id allocation that landed would be taken
 * as lost, and the step after it (the next timer message, the checkpoint item) never done.
 *
 * This is the one place the job's status changes: every change a mutator returns is checked
 * against the transition table (core/job-status.ts); an illegal one throws an InvariantError
 * and writes nothing.
 */
import { randomUUID } from 'node:crypto';
import { TransientStorageError } from '../core/errors.js';
import { checkTransition } from '../core/job-status.js';
import type { JobRecord } from '../core/manifest.js';
import type { ManifestStore } from '../ports/manifest-store.js';

const MAX_ATTEMPTS = 25;
/** Write ids the job item remembers: more than the writes that can land between one write
 *  and its caller's read-back. */
const RECENT_WRITES = 16;
/** Failed (not merely lost-race) writes in a row before the error is passed on. */
const MAX_FAILED_WRITES = 3;

export async function updateJob(
  manifest: ManifestStore,
  job: string,
  change: (current: JobRecord) => JobRecord | null,
): Promise<JobRecord | null> {
  let current = await manifest.getJob(job);
  let failedWrites = 0;
  const mine: string[] = [];
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (!current) return null;
    const next = change(current);
    if (!next) return null;
    checkTransition(current.status, next.status, job);
    const writeId = randomUUID();
    mine.push(writeId);
    const written: JobRecord = { ...next, recentWrites: [...(next.recentWrites ?? []), writeId].slice(-RECENT_WRITES) };
    const outcome = await tryPut(manifest, written, current.version);
    if (outcome === true) return { ...written, version: current.version + 1 };
    const stored = await manifest.getJob(job);
    if (stored && mine.some((id) => stored.recentWrites?.includes(id))) return stored;
    if (outcome !== false && ++failedWrites >= MAX_FAILED_WRITES) throw outcome;
    current = stored;
  }
  throw new TransientStorageError(`update job item ${job}: too much contention`);
}

/**
 * True, false (condition failed), or the transient error the write failed with: only that one
 * may have landed, and is worth another attempt now. Any other error is passed on at once.
 */
async function tryPut(manifest: ManifestStore, record: JobRecord, expectedVersion: number): Promise<boolean | Error> {
  try {
    return await manifest.putJob(record, expectedVersion);
  } catch (e) {
    if (e instanceof TransientStorageError) return e;
    throw e;
  }
}
