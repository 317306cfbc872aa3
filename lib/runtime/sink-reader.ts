/**
 * Reads what an exactly-once sink committed: the commit markers under the sink's
 * `committed/` prefix, in checkpoint order, and the staged parts each one names. Staged
 * parts without a marker (aborted or not yet committed) are never read.
 */
import type { JobName } from '../core/ids.js';
import { blobKeys } from '../core/storage-keys.js';
import type { BlobStore } from '../ports/blob-store.js';

export interface CommittedOutput<T> {
  readonly records: T[];
  /** Checkpoints that committed output, ascending. */
  readonly checkpoints: number[];
}

export async function readCommitted<T = unknown>(blobs: BlobStore, job: string, sink: string): Promise<CommittedOutput<T>> {
  const markers = await blobs.list(blobKeys.committedPrefix(job as JobName, sink));
  const records: T[] = [];
  const checkpoints = new Set<number>();
  for (const key of markers) {
    const body = await blobs.get(key);
    if (body === null) continue;
    const marker = JSON.parse(body) as { checkpoint: number; parts: string[] };
    checkpoints.add(marker.checkpoint);
    for (const part of marker.parts) {
      const values = await blobs.get(part);
      if (values === null) throw new Error(`committed part ${part} is missing`);
      records.push(...(JSON.parse(values) as T[]));
    }
  }
  return { records, checkpoints: [...checkpoints].sort((a, b) => a - b) };
}
