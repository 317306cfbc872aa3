/**
 * Manifest store port: the job item and one item per checkpoint (DynamoDB, one partition
 * per job). Every mutation is conditional; the conditions are the ones in core/manifest.
 *
 * Guarantees: reads are strongly consistent; `ack` is a single atomic write that adds the
 * subtask and, when it completes the set, flips the checkpoint to COMPLETED; `putJob` writes
 * only if the stored version equals `expectedVersion` (null: only if absent).
 */
import type { CheckpointId, SubtaskKey } from '../core/ids.js';
import type {
  AckInfo,
  AckOutcome,
  CheckpointFailureReason,
  CheckpointRecord,
  JobRecord,
} from '../core/manifest.js';

export interface ManifestStore {
  getJob(job: string): Promise<JobRecord | null>;
  /** Stores `record` with version `expectedVersion + 1`; false on a version mismatch. */
  putJob(record: JobRecord, expectedVersion: number | null): Promise<boolean>;

  getCheckpoint(job: string, id: CheckpointId): Promise<CheckpointRecord | null>;
  /** Newest first. */
  listCheckpoints(job: string, options?: { limit?: number }): Promise<CheckpointRecord[]>;
  /** False when an item with this id exists already. */
  createCheckpoint(job: string, record: CheckpointRecord): Promise<boolean>;
  ack(job: string, id: CheckpointId, subtask: SubtaskKey, info: AckInfo, now: number): Promise<AckOutcome>;
  /**
   * PENDING → ABORTED with `reason`. With `tombstone`, a missing item is created ABORTED so
   * that a late creation fails. Returns false when the item was not pending.
   */
  abort(
    job: string,
    id: CheckpointId,
    reason: CheckpointFailureReason,
    now: number,
    tombstone?: { gen: number },
  ): Promise<boolean>;
  /** Sets a flag on an existing item (idempotent). */
  mark(job: string, id: CheckpointId, flag: 'triggersSent' | 'notified'): Promise<void>;
  /** Records that sink subtask `subtask` committed every transaction up to this checkpoint
   *  (idempotent; nothing when the item is gone). */
  markCommitted(job: string, id: CheckpointId, subtask: SubtaskKey): Promise<void>;
  /** COMPLETED → DISCARDED (retention, before it deletes the snapshots); false if it was not COMPLETED. */
  discardCheckpoint(job: string, id: CheckpointId): Promise<boolean>;
  deleteCheckpoint(job: string, id: CheckpointId): Promise<void>;
}
