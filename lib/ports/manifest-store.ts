/**
 * Manifest store port: the job item and one item per checkpoint (DynamoDB, one partition
 * per job). Every mutation is conditional; the conditions are the ones in core/manifest.
 *
 * Guarantees: reads are strongly consistent; `putJob` writes only if the stored version equals
 * `expectedVersion` (null: only if absent). `ack` costs the same whatever the parallelism
 * (core/checkpoint-acks): one atomic write stores the subtask's ack item if absent and counts
 * it on the checkpoint item if that is PENDING and expects the subtask; then, if every expected
 * subtask is counted, one conditional write flips the checkpoint to COMPLETED — exactly one
 * such write succeeds, and an ack retried after a crash between the two makes it. A
 * checkpoint item holds counters, not the acks: `listAcks` reads those, page by page.
 */
import type { CheckpointId, SubtaskKey } from '../core/ids.js';
import type {
  AckInfo,
  AckOutcome,
  CheckpointAcks,
  CheckpointFailureReason,
  CheckpointRecord,
  JobRecord,
} from '../core/manifest.js';

export interface ManifestStore {
  getJob(job: string): Promise<JobRecord | null>;
  /** Stores `record` with version `expectedVersion + 1`; false on a version mismatch. */
  putJob(record: JobRecord, expectedVersion: number | null): Promise<boolean>;

  getCheckpoint(job: string, id: CheckpointId): Promise<CheckpointRecord | null>;
  /** Newest first: the checkpoint items alone (their totals, not their acks). */
  listCheckpoints(job: string, options?: { limit?: number }): Promise<CheckpointRecord[]>;
  /** Every acknowledgement of a checkpoint, by subtask ({} when none or gone). */
  listAcks(job: string, id: CheckpointId): Promise<CheckpointAcks>;
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
  /** Forgets the checkpoint: its acks, then its item. */
  deleteCheckpoint(job: string, id: CheckpointId): Promise<void>;
}
