/**
 * Checkpoint statistics in the meaning of Flink's REST API (`/jobs/:id/checkpoints` and
 * `/jobs/:id/checkpoints/details/:cid`), computed from the manifest: pure, for the CLI's
 * `checkpoints` command and the web UI alike.
 *
 * Where ours differ from Flink's, and why:
 * - Flink's JobManager counts checkpoints in memory since the job started. Ours are read from
 *   the manifest, which holds every checkpoint among the last CHECKPOINT_HISTORY ids (those
 *   retention subsumed as DISCARDED: their snapshots are gone, their figures stay), the
 *   retained completed ones and every savepoint. So `triggered` counts every id the job
 *   allocated, and `completed`, `failed` and `inProgress` count the checkpoints the manifest
 *   still holds: `history` lists them.
 * - `restored` counts restores of the job (every generation after the first: failovers,
 *   forced restores, restores from savepoints), as Flink's counts.restored does.
 * - Per subtask, the start delay is the time from the trigger to the first barrier's arrival
 *   (Flink's "start delay"), taken from the acknowledgement: it was acknowledged at `at`,
 *   after aligning for `alignmentMs`.
 * - A checkpoint's figures come from the totals its item keeps (the acks are items of their
 *   own: only the per-subtask views read them). The latest acknowledgement is the last one
 *   written, and the alignment summary is over completed checkpoints of their mean alignment
 *   (Flink's summary is over checkpoints too).
 */
import type { CheckpointSettings } from './config.js';
import { expectedSubtasks, expectedCount } from './checkpoint-acks.js';
import { hasCompleted, type AckInfo, type CheckpointAcks, type CheckpointRecord, type JobRecord } from './manifest.js';

/** Flink's checkpoint status names. */
export type FlinkCheckpointStatus = 'IN_PROGRESS' | 'COMPLETED' | 'FAILED';

export interface MinMaxAvg {
  readonly min: number;
  readonly max: number;
  readonly avg: number;
}

export interface CheckpointHistoryEntry {
  readonly id: number;
  readonly status: FlinkCheckpointStatus;
  readonly isSavepoint: boolean;
  /** The savepoint's name, when it is one. */
  readonly savepoint: string | null;
  /** Whether it is a stop-with-savepoint. */
  readonly stop: boolean;
  readonly generation: number;
  readonly triggerTimestamp: number;
  /** Time of the latest acknowledgement; null before the first. */
  readonly latestAckTimestamp: number | null;
  /** Trigger to the latest acknowledgement (to completion, once completed), ms. */
  readonly endToEndDuration: number | null;
  /** Bytes of all acknowledged subtasks' snapshots. */
  readonly checkpointedSize: number;
  readonly numSubtasks: number;
  readonly numAcknowledgedSubtasks: number;
  /** Flink's CheckpointFailureReason, for a failed one. */
  readonly failureReason: string | null;
  /** A completed checkpoint whose snapshots retention deleted since (Flink's `discarded`). */
  readonly discarded: boolean;
}

export interface CheckpointStatistics {
  readonly counts: {
    readonly triggered: number;
    readonly inProgress: number;
    readonly completed: number;
    readonly failed: number;
    readonly restored: number;
  };
  /** Newest first: the checkpoints the manifest keeps. */
  readonly history: readonly CheckpointHistoryEntry[];
  /** Over the completed checkpoints in the history; null fields when there is none. */
  readonly summary: {
    readonly endToEndDuration: MinMaxAvg | null;
    readonly checkpointedSize: MinMaxAvg | null;
    readonly alignmentDuration: MinMaxAvg | null;
  };
  /** What the current generation was restored from; null for a job that never was. */
  readonly latestRestore: {
    readonly generation: number;
    readonly checkpoint: number;
    readonly isSavepoint: boolean;
    readonly savepoint: string | null;
  } | null;
  /** The job's checkpoint settings, when known (from its job file). */
  readonly config: CheckpointSettings | null;
}

export interface SubtaskCheckpointStatistics {
  /** `stage/index`. */
  readonly subtask: string;
  readonly acknowledged: boolean;
  readonly ackTimestamp: number | null;
  /** Trigger to this subtask's acknowledgement, ms. */
  readonly endToEndDuration: number | null;
  /** Trigger to the first barrier's arrival, ms. */
  readonly startDelay: number | null;
  readonly alignmentDuration: number | null;
  /** Flink's synchronous part of the snapshot (taking and encoding the state), ms. */
  readonly syncDuration: number | null;
  /** Flink's asynchronous part (writing the snapshot to the bucket), ms. */
  readonly asyncDuration: number | null;
  /** Bytes this checkpoint wrote for the subtask (a delta, when incremental). */
  readonly checkpointedSize: number | null;
  /** Bytes a restore reads for it: the delta and the chain it builds on (Flink's state size). */
  readonly stateSize: number | null;
  /** Earlier snapshot objects it chains onto (0: whole). */
  readonly chained: number | null;
}

export interface CheckpointDetail extends CheckpointHistoryEntry {
  readonly subtasks: readonly SubtaskCheckpointStatistics[];
}

const flinkStatus = (c: CheckpointRecord): FlinkCheckpointStatus =>
  c.status === 'PENDING' ? 'IN_PROGRESS' : hasCompleted(c) ? 'COMPLETED' : 'FAILED';

export function historyEntry(c: CheckpointRecord): CheckpointHistoryEntry {
  const latestAck = c.acked === 0 ? null : c.lastAckAt;
  const end = c.completedAt ?? latestAck;
  return {
    id: c.id,
    status: flinkStatus(c),
    isSavepoint: c.savepoint !== null,
    savepoint: c.savepoint,
    stop: c.stop,
    generation: c.gen,
    triggerTimestamp: c.triggeredAt,
    latestAckTimestamp: latestAck,
    endToEndDuration: end === null ? null : end - c.triggeredAt,
    checkpointedSize: c.bytes,
    numSubtasks: expectedCount(c),
    numAcknowledgedSubtasks: c.acked,
    failureReason: c.status === 'ABORTED' ? c.reason : null,
    discarded: c.status === 'DISCARDED',
  };
}

function minMaxAvg(values: readonly number[]): MinMaxAvg | null {
  if (values.length === 0) return null;
  const sum = values.reduce((a, b) => a + b, 0);
  return { min: Math.min(...values), max: Math.max(...values), avg: sum / values.length };
}

export function checkpointStatistics(job: JobRecord, checkpoints: readonly CheckpointRecord[], config: CheckpointSettings | null): CheckpointStatistics {
  const newestFirst = [...checkpoints].sort((a, b) => b.id - a.id);
  const history = newestFirst.map(historyEntry);
  const count = (status: FlinkCheckpointStatus) => history.filter((h) => h.status === status).length;
  const completed = newestFirst.filter(hasCompleted);
  const base = job.lineage.base;
  const baseRecord = base === null ? undefined : checkpoints.find((c) => c.id === base);
  return {
    counts: {
      triggered: job.nextCheckpointId - 1,
      inProgress: count('IN_PROGRESS'),
      completed: count('COMPLETED'),
      failed: count('FAILED'),
      restored: job.gen - 1,
    },
    history,
    summary: {
      endToEndDuration: minMaxAvg(completed.map((c) => c.completedAt! - c.triggeredAt)),
      checkpointedSize: minMaxAvg(completed.map((c) => historyEntry(c).checkpointedSize)),
      alignmentDuration: minMaxAvg(completed.flatMap((c) => (c.acked === 0 ? [] : [c.alignmentMs / c.acked]))),
    },
    latestRestore:
      base === null
        ? null
        : { generation: job.lineage.gen, checkpoint: base, isSavepoint: (baseRecord?.savepoint ?? null) !== null, savepoint: baseRecord?.savepoint ?? null },
    config,
  };
}

function subtaskStatistics(c: CheckpointRecord, subtask: string, ack: AckInfo | undefined): SubtaskCheckpointStatistics {
  if (!ack) {
    return {
      subtask,
      acknowledged: false,
      ackTimestamp: null,
      endToEndDuration: null,
      startDelay: null,
      alignmentDuration: null,
      syncDuration: null,
      asyncDuration: null,
      checkpointedSize: null,
      stateSize: null,
      chained: null,
    };
  }
  return {
    subtask,
    acknowledged: true,
    ackTimestamp: ack.at,
    endToEndDuration: ack.at - c.triggeredAt,
    // The first barrier arrived `alignmentMs` before the snapshot that was acknowledged.
    startDelay: Math.max(0, ack.at - ack.alignmentMs - c.triggeredAt),
    alignmentDuration: ack.alignmentMs,
    syncDuration: ack.syncMs ?? null,
    asyncDuration: ack.asyncMs ?? null,
    checkpointedSize: ack.bytes,
    stateSize: ack.stateSize ?? ack.bytes,
    chained: ack.chained ?? 0,
  };
}

/** A stage's figures as its subtasks acknowledged them in one checkpoint (Flink's task metrics, sampled at the barrier). */
export interface StageFigures {
  readonly checkpoint: number;
  /** Records the stage took in during the generation (a source: read), up to the barrier. */
  readonly recordsIn: number;
  /** Records it sent on (downstream and into sinks); null if an ack predates the figure. */
  readonly recordsOut: number | null;
  /** Flink's stage watermark: the least of its subtasks'; null before every subtask has one. */
  readonly watermark: number | null;
}

/** `acks`: the checkpoint's (`ManifestStore.listAcks`). */
export function stageFigures(c: CheckpointRecord, allAcks: CheckpointAcks, stage: string): StageFigures | null {
  const acks = Object.entries(allAcks).filter(([key]) => key.slice(0, key.lastIndexOf('/')) === stage).map(([, a]) => a);
  if (acks.length === 0) return null;
  const sum = (xs: number[]) => xs.reduce((n, x) => n + x, 0);
  const out = acks.map((a) => a.emitted);
  const marks = acks.map((a) => a.watermark);
  return {
    checkpoint: c.id,
    recordsIn: sum(acks.map((a) => a.progress)),
    recordsOut: out.every((x) => x !== undefined) ? sum(out as number[]) : null,
    watermark: marks.every((w): w is number => typeof w === 'number') ? Math.min(...marks) : null,
  };
}

/** One checkpoint with its per-subtask figures (`acks`: `ManifestStore.listAcks`), in the order the checkpoint expected them. */
export function checkpointDetail(c: CheckpointRecord, acks: CheckpointAcks): CheckpointDetail {
  return { ...historyEntry(c), subtasks: expectedSubtasks(c).map((s) => subtaskStatistics(c, s, acks[s])) };
}
