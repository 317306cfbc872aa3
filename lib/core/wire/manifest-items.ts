/**
 * The stored format of the manifest's checkpoint and acknowledgement items (keys:
 * `tableKeys.checkpointSk`, `tableKeys.ackSk`). A checkpoint item has a fixed size whatever the
 * parallelism: what never changes after the trigger is one JSON attribute (the header), and
 * what the transitions change in place — status, the ack counters, flags — are attributes of
 * their own, so that an ack or a flag is an update of a few bytes, not a rewrite. An ack item
 * holds one subtask's AckInfo as JSON.
 *
 * Stored formats: the attribute names are read back by every later reader and must not be
 * renamed. (No reader of the format before acks became items: there were no deployed users.)
 */
import type { CheckpointId, Generation } from '../ids.js';
import type { AckInfo, CheckpointRecord } from '../manifest.js';

/** Attribute names of a checkpoint item. */
export const checkpointItemFields = {
  status: 'status',
  /** JSON: CheckpointHeader. */
  header: 'record',
  /** Map stage → parallelism (conditions test a subtask's index against it). */
  stages: 'stages',
  acked: 'acked',
  finished: 'fin',
  progress: 'progress',
  bytes: 'bytes',
  alignmentMs: 'align',
  lastAckAt: 'lastAckAt',
  completedAt: 'completedAt',
  reason: 'reason',
  triggersSent: 'triggersSent',
  notified: 'notified',
  /** String set of sink subtasks. */
  committed: 'committed',
  /** Unique per write, so a writer whose response was lost recognises its own write. */
  createdBy: 'w',
  endedBy: 'endedBy',
  discardedBy: 'discardedBy',
} as const;

/** Attribute of an ack item holding the AckInfo as JSON. */
export const ackItemField = 'ack';

/** The part of a checkpoint record written once, at trigger time. */
export interface CheckpointHeader {
  readonly id: CheckpointId;
  readonly gen: Generation;
  readonly savepoint: string | null;
  readonly stop: boolean;
  readonly triggeredAt: number;
  readonly activity: number;
  readonly chainSpan: number;
}

export const checkpointHeaderBody = (r: CheckpointRecord): string =>
  JSON.stringify({
    id: r.id,
    gen: r.gen,
    savepoint: r.savepoint,
    stop: r.stop,
    triggeredAt: r.triggeredAt,
    activity: r.activity,
    chainSpan: r.chainSpan,
  } satisfies CheckpointHeader);

/** Items written before snapshots chained have no `chainSpan`: theirs are whole. */
export const parseCheckpointHeader = (body: string): CheckpointHeader => ({ chainSpan: 1, ...(JSON.parse(body) as Partial<CheckpointHeader>) }) as CheckpointHeader;

export const ackItemBody = (info: AckInfo): string => JSON.stringify(info);

export const parseAckItemBody = (body: string): AckInfo => JSON.parse(body) as AckInfo;
