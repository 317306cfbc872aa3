/**
 * The checkpoint manifest (Flink's completed-checkpoint store and `_metadata`): one job item,
 * one fixed-size item per checkpoint (status, totals), and one item per acknowledgement
 * (core/checkpoint-acks). These are the records and the transitions that stores must
 * carry out atomically; the memory store applies them directly, the DynamoDB store as
 * conditional writes with the same conditions.
 */
import type { CheckpointId, Generation, JobName, SubtaskKey } from './ids.js';
import type { ParallelismOverrides } from './topology.js';

export interface TimerState {
  /** Only a timer message carrying this token is the live chain; others are dropped. */
  readonly token: number;
  readonly firedAt: number | null;
}

export type JobStatus = 'RUNNING' | 'RESTORING' | 'FAILED' | 'FINISHED' | 'STOPPED' | 'CANCELED';

/** What a restore starts from. `empty` is a job's first start, or a failure before any checkpoint. */
export type RestoreSource =
  | { readonly kind: 'empty' }
  | { readonly kind: 'checkpoint'; readonly checkpoint: CheckpointId };

/** What the user (or a failover) asked to restore from. */
export type RestoreRequest =
  | { readonly kind: 'latest' }
  | { readonly kind: 'checkpoint'; readonly checkpoint: number }
  | { readonly kind: 'savepoint'; readonly name: string };

/** A generation's line of descent: what `latest` means when that generation fails. */
export interface Lineage {
  readonly gen: Generation;
  /** The checkpoint the generation was restored from; null when it started empty. */
  readonly base: CheckpointId | null;
}

export interface RestoreInProgress {
  readonly gen: Generation;
  readonly request: RestoreRequest;
  /** The lineage being replaced: `latest` is its newest checkpoint, else its base. */
  readonly previous: Lineage;
  /** Chosen after pending checkpoints are fenced; null until then. */
  readonly from: RestoreSource | null;
  readonly parallelism: ParallelismOverrides;
  readonly startedAt: number;
  readonly reason: string;
}

/** A terminal failure that made the job fail over (or fail): what failed, where, on what. */
export interface FailureInfo {
  /** The error's code (`USER_FUNCTION`, `LOST_MESSAGE`, …) and its one-line message. */
  readonly code: string;
  readonly message: string;
  /** The operator and subtask (`stage/index`) it happened in, when known. */
  readonly operator: string | null;
  readonly subtask: string | null;
  /** The input it happened on: the record (JSON, cut to 1 KiB) or a source position. */
  readonly input: string | null;
  readonly at: number;
}

export interface JobRecord {
  readonly job: JobName;
  readonly status: JobStatus;
  readonly gen: Generation;
  /** What `latest` follows: the last generation that ran (a failed restore never ran) and
   *  the checkpoint it was restored from. Retention keeps that base until the generation
   *  completes a checkpoint of its own. */
  readonly lineage: Lineage;
  /** The next checkpoint id to allocate; allocation is a conditional increment. */
  readonly nextCheckpointId: number;
  readonly lastTriggerAt: number | null;
  /** Effective parallelism overrides of the current generation. */
  readonly parallelism: ParallelismOverrides;
  /** Source subtasks (`stage/index`) that reached end of input in this generation. */
  readonly sourcesFinished: readonly string[];
  /** Bumped by a source that finds input after being idle: it wakes the coordinator. */
  readonly activity: number;
  /** A savepoint the user asked for and the coordinator has not triggered yet. */
  readonly savepointRequest: { readonly name: string; readonly stop: boolean } | null;
  /** The stop-with-savepoint allocated in this generation, set in the same write that
   *  allocates its id: no checkpoint may be triggered after it, even before its item exists. */
  readonly stopping: CheckpointId | null;
  /** A terminal failure waiting for the restart strategy. */
  readonly failover: { readonly reason: string; readonly at: number; readonly restartAt: number } | null;
  /** Times of past failovers of this job, newest last (restart strategies read them). */
  readonly failures: readonly number[];
  /** Failovers (restarts) of this job since it was first started. */
  readonly restarts: number;
  /** The failure behind the latest failover or the FAILED status; null when none yet. */
  readonly lastFailure: FailureInfo | null;
  readonly restore: RestoreInProgress | null;
  /** Why the job is FAILED, STOPPED or CANCELED. */
  readonly detail: string | null;
  /** When the current generation became RUNNING (status's uptime); absent in older items. */
  readonly runningSince?: number;
  /**
   * The bucket of the job's checkpoints and output, as the process that first started the job
   * knew it: how the operations commands find a deployed job's bucket, which CloudFormation
   * named. Absent in memory and in older items.
   */
  readonly bucket?: string;
  /** Messages the operators dead-lettered as malformed, by reason. */
  readonly deadLetters: Readonly<Record<string, number>>;
  /** The coordinator's own timer chain (see core/coordinator-timer). */
  readonly timer: TimerState;
  /** Optimistic-concurrency counter: every job-item write checks and bumps it. */
  readonly version: number;
  /** The ids of the last few writes (each unique), newest last: a writer whose response was
   *  lost recognises its own write, also after others landed on top of it. */
  readonly recentWrites?: readonly string[];
}

/**
 * DISCARDED: completed, then subsumed by newer ones and removed by retention. Its snapshots
 * are deleted, so nothing restores from it; the item stays while it is among the last
 * CHECKPOINT_HISTORY ids, for the statistics (Flink's history shows it, marked discarded).
 */
export type CheckpointStatus = 'PENDING' | 'COMPLETED' | 'ABORTED' | 'DISCARDED';

/** It completed (and may have been discarded by retention since): what counts and tables mean by completed. */
export const hasCompleted = (c: Pick<CheckpointRecord, 'status'>): boolean => c.status === 'COMPLETED' || c.status === 'DISCARDED';

/** Flink's CheckpointFailureReason, the subset that can happen here. */
export type CheckpointFailureReason =
  | 'CHECKPOINT_EXPIRED'
  | 'JOB_RESTORE'
  | 'TRIGGER_FAILED'
  | 'FINALIZE_FAILED'
  /** The job was canceled while the checkpoint was pending. */
  | 'CHECKPOINT_COORDINATOR_SUSPEND';

export interface AckInfo {
  /** Blob key of the subtask's snapshot. */
  readonly key: string;
  readonly bytes: number;
  readonly alignmentMs: number;
  /** The subtask had received end of input on every channel before this barrier. */
  readonly finished: boolean;
  /** Records the subtask has taken in during this generation (sources: emitted). */
  readonly progress: number;
  readonly at: number;
  /**
   * Statistics recorded at snapshot time (absent in acks written before they existed):
   * records sent on during this generation (downstream and into sinks: Flink's numRecordsOut
   * of the chain), the subtask's current watermark (a source's: the one it emits; others':
   * the one they take in; null before the first), and the snapshot's synchronous part (taking
   * the state, encoding it) and asynchronous part (writing it to the bucket), in ms.
   */
  readonly emitted?: number;
  readonly watermark?: number | null;
  readonly syncMs?: number;
  readonly asyncMs?: number;
  /** Bytes a restore reads for this subtask: its snapshot and, for a delta, the chain it
   *  builds on (Flink's full checkpoint data size; `bytes` is what this checkpoint wrote). */
  readonly stateSize?: number;
  /** Earlier objects its snapshot chains onto; 0: it is whole. */
  readonly chained?: number;
}

export interface CheckpointRecord {
  readonly id: CheckpointId;
  readonly gen: Generation;
  readonly status: CheckpointStatus;
  /** Savepoints are named and never deleted by retention. */
  readonly savepoint: string | null;
  readonly stop: boolean;
  readonly triggeredAt: number;
  /** All trigger envelopes were sent; a coordinator that finds `false` sends them again. */
  readonly triggersSent: boolean;
  /** The subtasks expected to acknowledge, as the parallelism of every stage of the
   *  generation's topology: stage → n expects `stage/0` … `stage/n-1` (see core/checkpoint-acks).
   *  Its size follows the stages, never the subtasks. */
  readonly stages: Readonly<Record<string, number>>;
  /**
   * Totals over the acknowledgements so far, each counted once (the acks themselves are items
   * of their own, read with `ManifestStore.listAcks`): how many, how many had finished, the
   * sum of their progress, snapshot bytes and alignment times, and the time of the last one
   * written.
   */
  readonly acked: number;
  readonly finished: number;
  readonly progress: number;
  readonly bytes: number;
  readonly alignmentMs: number;
  readonly lastAckAt: number | null;
  readonly completedAt: number | null;
  readonly reason: CheckpointFailureReason | null;
  /** Sinks were sent `commit` for this checkpoint. */
  readonly notified: boolean;
  /** Sink subtasks (`stage/index`) that committed every transaction up to this checkpoint. */
  readonly committed: readonly SubtaskKey[];
  /** The job's `activity` counter when this checkpoint was triggered. */
  readonly activity: number;
  /** Its snapshots may chain onto those of the `chainSpan - 1` checkpoints before it, no
   *  further (core/snapshot-chain.ts): 1 means each is whole. Retention keeps them that long. */
  readonly chainSpan: number;
}

/** The acknowledgements of one checkpoint, by subtask. */
export type CheckpointAcks = Readonly<Record<string, AckInfo>>;

export const isFinal = (cp: CheckpointRecord) => cp.status === 'COMPLETED' && cp.acked > 0 && cp.finished === cp.acked;

/** The job ends with this checkpoint (its final one, or a stop-with-savepoint): its sinks
 *  report their commit, and the job ends only once all did. */
export const endsJob = (cp: CheckpointRecord) => cp.stop || isFinal(cp);

export const totalProgress = (cp: CheckpointRecord) => cp.progress;

export type AckOutcome =
  | { readonly kind: 'acked'; readonly record: CheckpointRecord }
  | { readonly kind: 'completed'; readonly record: CheckpointRecord }
  /** Already acked by this subtask: a retry of the same invocation. */
  | { readonly kind: 'duplicate'; readonly record: CheckpointRecord }
  /** Not pending (aborted, or unknown): the ack is dropped. */
  | { readonly kind: 'rejected'; readonly status: CheckpointStatus | 'MISSING' };

const NO_ACKS = { acked: 0, finished: 0, progress: 0, bytes: 0, alignmentMs: 0, lastAckAt: null } as const;

export function newCheckpointRecord(args: {
  id: CheckpointId;
  gen: Generation;
  stages: Readonly<Record<string, number>>;
  now: number;
  savepoint: { name: string; stop: boolean } | null;
  activity: number;
  /** @default 1 (snapshots are whole) */
  chainSpan?: number;
}): CheckpointRecord {
  return {
    id: args.id,
    gen: args.gen,
    status: 'PENDING',
    savepoint: args.savepoint?.name ?? null,
    stop: args.savepoint?.stop ?? false,
    triggeredAt: args.now,
    triggersSent: false,
    stages: args.stages,
    ...NO_ACKS,
    completedAt: null,
    reason: null,
    notified: false,
    committed: [],
    activity: args.activity,
    chainSpan: args.chainSpan ?? 1,
  };
}

/**
 * Whether an item is a tombstone (`abortedTombstone`): a real checkpoint always has stages.
 * A tombstone must outlive every trigger that allocated its id — one may be paused between
 * allocating the id and creating the item for as long as it likes — so it is never deleted.
 */
export const isTombstone = (c: CheckpointRecord): boolean => c.status === 'ABORTED' && Object.keys(c.stages).length === 0;

/** An ABORTED item where none existed, so that a late `createCheckpoint` of this id fails. */
export function abortedTombstone(id: CheckpointId, gen: number, reason: CheckpointFailureReason, now: number): CheckpointRecord {
  return {
    id,
    gen: gen as Generation,
    status: 'ABORTED',
    savepoint: null,
    stop: false,
    triggeredAt: now,
    triggersSent: true,
    stages: {},
    ...NO_ACKS,
    completedAt: null,
    reason,
    notified: true,
    committed: [],
    activity: 0,
    // Nothing was triggered under this id, so nothing chains onto it.
    chainSpan: 1,
  };
}

export function initialJobRecord(job: JobName, gen: Generation): JobRecord {
  return {
    job,
    status: 'RESTORING',
    gen,
    lineage: { gen, base: null },
    nextCheckpointId: 1,
    lastTriggerAt: null,
    parallelism: {},
    sourcesFinished: [],
    activity: 0,
    savepointRequest: null,
    stopping: null,
    failover: null,
    failures: [],
    restarts: 0,
    lastFailure: null,
    restore: null,
    detail: null,
    deadLetters: {},
    timer: { token: 0, firedAt: null },
    version: 0,
  };
}
