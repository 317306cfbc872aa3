/**
 * Checkpoint and ack items of the manifest table as DynamoDB attribute values, after the
 * stored format of core/wire/manifest-items: records in, items out, and back.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { CheckpointId, JobName, SubtaskKey } from '../../core/ids.js';
import type { AckInfo, CheckpointAcks, CheckpointFailureReason, CheckpointRecord, CheckpointStatus } from '../../core/manifest.js';
import {
  ackItemBody,
  ackItemField,
  checkpointHeaderBody,
  checkpointItemFields as F,
  parseAckItemBody,
  parseCheckpointHeader,
} from '../../core/wire/manifest-items.js';
import { tableKeys } from '../../core/wire/storage-keys.js';

export type Item = Record<string, AttributeValue>;

const n = (v: number): AttributeValue => ({ N: String(v) });
const num = (v: AttributeValue | undefined): number | null => (v?.N === undefined ? null : Number(v.N));

export const checkpointKey = (job: string, id: CheckpointId): Item => ({
  pk: { S: tableKeys.jobPk(job as JobName) },
  sk: { S: tableKeys.checkpointSk(id) },
});

export const ackKey = (job: string, id: CheckpointId, subtask: SubtaskKey): Item => ({
  pk: { S: tableKeys.jobPk(job as JobName) },
  sk: { S: tableKeys.ackSk(id, subtask) },
});

/** The whole item of a checkpoint record (creation, tombstones); `w` identifies this write. */
export function checkpointItem(job: string, r: CheckpointRecord, w: string): Item {
  const item: Item = {
    ...checkpointKey(job, r.id),
    [F.status]: { S: r.status },
    [F.header]: { S: checkpointHeaderBody(r) },
    [F.stages]: { M: Object.fromEntries(Object.entries(r.stages).map(([stage, p]) => [stage, n(p)])) },
    [F.acked]: n(r.acked),
    [F.finished]: n(r.finished),
    [F.progress]: n(r.progress),
    [F.bytes]: n(r.bytes),
    [F.alignmentMs]: n(r.alignmentMs),
    [F.triggersSent]: { BOOL: r.triggersSent },
    [F.notified]: { BOOL: r.notified },
    [F.createdBy]: { S: w },
  };
  if (r.lastAckAt !== null) item[F.lastAckAt] = n(r.lastAckAt);
  if (r.completedAt !== null) item[F.completedAt] = n(r.completedAt);
  if (r.reason !== null) item[F.reason] = { S: r.reason };
  if (r.committed.length > 0) item[F.committed] = { SS: [...r.committed] };
  return item;
}

export function parseCheckpointItem(item: Item): CheckpointRecord {
  const header = parseCheckpointHeader(item[F.header]!.S!);
  return {
    ...header,
    status: item[F.status]!.S as CheckpointStatus,
    triggersSent: item[F.triggersSent]?.BOOL === true,
    stages: Object.fromEntries(Object.entries(item[F.stages]?.M ?? {}).map(([stage, p]) => [stage, Number(p.N)])),
    acked: num(item[F.acked]) ?? 0,
    finished: num(item[F.finished]) ?? 0,
    progress: num(item[F.progress]) ?? 0,
    bytes: num(item[F.bytes]) ?? 0,
    alignmentMs: num(item[F.alignmentMs]) ?? 0,
    lastAckAt: num(item[F.lastAckAt]),
    completedAt: num(item[F.completedAt]),
    reason: (item[F.reason]?.S ?? null) as CheckpointFailureReason | null,
    notified: item[F.notified]?.BOOL === true,
    committed: [...(item[F.committed]?.SS ?? [])].sort() as SubtaskKey[],
  };
}

export const ackItem = (job: string, id: CheckpointId, subtask: SubtaskKey, info: AckInfo): Item => ({
  ...ackKey(job, id, subtask),
  [ackItemField]: { S: ackItemBody(info) },
});

/** Ack items (as a Query returns them) by subtask. */
export const parseAckItems = (items: readonly Item[]): CheckpointAcks =>
  Object.fromEntries(items.map((i) => [tableKeys.subtaskOfAckSk(i.sk!.S!), parseAckItemBody(i[ackItemField]!.S!)]));
