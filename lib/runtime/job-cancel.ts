/**
 * Cancels a job (core/cancel.ts decides): one conditional write makes it CANCELED, then its
 * checkpoints that had not completed are fenced so none of them ever does. A refused cancel
 * writes nothing. The fencing is idempotent; a coordinator tick of a canceled job aborts
 * what a crashed cancel left pending (core/coordinator.ts).
 */
import { CANCEL_ABORT_REASON, canceledJob, cancelRefusal, checkpointsToFence } from '../core/cancel.js';
import type { CheckpointId } from '../core/ids.js';
import type { JobRecord } from '../core/manifest.js';
import type { ManifestStore } from '../ports/manifest-store.js';
import { updateJob } from './job-records.js';

export type CancelOutcome =
  | { readonly kind: 'canceled'; readonly job: JobRecord; readonly aborted: readonly CheckpointId[] }
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'missing' };

export async function cancelJob(manifest: ManifestStore, name: string, now: number, reason: string): Promise<CancelOutcome> {
  let refusal: string | null = null;
  let seen = false;
  const written = await updateJob(manifest, name, (j) => {
    seen = true;
    refusal = cancelRefusal(j);
    return canceledJob(j, reason);
  });
  if (!written) return refusal ? { kind: 'refused', reason: refusal } : seen ? { kind: 'refused', reason: `job ${name} could not be canceled` } : { kind: 'missing' };
  const { pending, tombstones } = checkpointsToFence(written, await manifest.listCheckpoints(name));
  const aborted: CheckpointId[] = [];
  for (const id of pending) if (await manifest.abort(name, id, CANCEL_ABORT_REASON, now)) aborted.push(id);
  for (const id of tombstones) await manifest.abort(name, id, CANCEL_ABORT_REASON, now, { gen: written.gen });
  return { kind: 'canceled', job: written, aborted };
}
