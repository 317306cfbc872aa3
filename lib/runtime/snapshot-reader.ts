/**
 * Reads a subtask's snapshot for a restore: the object its ack names and, when that is a
 * delta, the earlier snapshots of its chain (read together, folded oldest first by
 * core/snapshot-chain's `materialize`). What comes back is always a full snapshot, so
 * redistribution by key group — rescaling — works on a chain exactly as on a full one.
 */
import { RestoreError } from '../core/errors.js';
import { checkpointId, type JobName, type SubtaskRef } from '../core/ids.js';
import type { SubtaskSnapshot } from '../core/recovery.js';
import { materialize } from '../core/snapshot-chain.js';
import { blobKeys } from '../core/wire/storage-keys.js';
import type { BlobStore } from '../ports/blob-store.js';
import { decodeSnapshot } from './snapshot.js';

export interface SnapshotRead {
  readonly snapshot: SubtaskSnapshot;
  /** Objects read: 1 for a full snapshot, the chain's length plus one for a delta. */
  readonly objects: number;
}

export async function readSnapshot(blobs: BlobStore, job: JobName, key: string, checkpoint: number): Promise<SnapshotRead> {
  const last = decodeSnapshot(await required(blobs, key, checkpoint), key);
  if (last.v === 1) return { snapshot: last, objects: 1 };
  const ref = { stage: last.stage, index: last.subtask } as SubtaskRef;
  const earlier = await Promise.all(
    last.chain.map(async (cp) => {
      const k = blobKeys.snapshot(job, checkpointId(cp), ref);
      return decodeSnapshot(await required(blobs, k, checkpoint), k);
    }),
  );
  return { snapshot: materialize(last, earlier), objects: earlier.length + 1 };
}

async function required(blobs: BlobStore, key: string, checkpoint: number): Promise<string> {
  const body = await blobs.get(key);
  if (body === null) throw new RestoreError(`snapshot ${key}, part of checkpoint ${checkpoint}, is missing`);
  return body;
}
