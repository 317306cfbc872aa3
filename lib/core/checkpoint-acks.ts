/**
 * Acknowledgements in O(1): the pure decisions behind `ManifestStore.ack`.
 *
 * A checkpoint's item stays small and fixed-size: the subtasks it expects are the parallelism
 * of every stage (`stages`), and each ack is an item of its own, written put-if-absent, with
 * the counters of the checkpoint item bumped in the same atomic write — conditioned on the
 * checkpoint being PENDING and the subtask being expected. An ack therefore costs the same
 * whatever the parallelism, and a duplicate (a retry, a lost response, a zombie) is recognised
 * by its item and never counted twice.
 *
 * Completion is a second, separate conditional write: PENDING with every expected subtask
 * counted → COMPLETED. Whoever finds the count full after its ack — the counting ack, or a
 * duplicate of any ack whose invocation died between the two writes — makes it; exactly one
 * such write can succeed. Nothing else completes a checkpoint.
 */
import { parseSubtaskKey, subtaskKey, type SubtaskKey } from './ids.js';
import type { AckInfo, AckOutcome, CheckpointRecord } from './manifest.js';

/** The stage → parallelism map of a list of subtasks `stage/0` … `stage/n-1` per stage. */
export function stagesOf(subtasks: readonly SubtaskKey[]): Record<string, number> {
  const stages: Record<string, number> = {};
  for (const s of subtasks) {
    const { stage, index } = parseSubtaskKey(s);
    stages[stage] = Math.max(stages[stage] ?? 0, index + 1);
  }
  return stages;
}

export const expectedCount = (cp: CheckpointRecord): number => Object.values(cp.stages).reduce((n, p) => n + p, 0);

/** Every subtask the checkpoint expects, stage by stage, in index order. */
export const expectedSubtasks = (cp: CheckpointRecord): SubtaskKey[] =>
  Object.entries(cp.stages).flatMap(([stage, n]) => Array.from({ length: n }, (_, index) => subtaskKey({ stage: stage as never, index })));

export function isExpected(cp: CheckpointRecord, subtask: SubtaskKey): boolean {
  const { stage, index } = parseSubtaskKey(subtask);
  return Object.hasOwn(cp.stages, stage) && index < cp.stages[stage]!;
}

/** What an ack does, given the checkpoint and whether this subtask's ack item exists already. */
export type AckAdmission =
  | { readonly kind: 'count' }
  | { readonly kind: 'duplicate' }
  | { readonly kind: 'rejected'; readonly status: CheckpointRecord['status'] | 'MISSING' };

export function admitAck(cp: CheckpointRecord | null, subtask: SubtaskKey, alreadyAcked: boolean): AckAdmission {
  if (!cp) return { kind: 'rejected', status: 'MISSING' };
  if (alreadyAcked) return { kind: 'duplicate' };
  if (cp.status !== 'PENDING' || !isExpected(cp, subtask)) return { kind: 'rejected', status: cp.status };
  return { kind: 'count' };
}

/** The checkpoint item after counting `ack`: the counters the store adds atomically. */
export const countAck = (cp: CheckpointRecord, ack: AckInfo): CheckpointRecord => ({
  ...cp,
  acked: cp.acked + 1,
  finished: cp.finished + (ack.finished ? 1 : 0),
  progress: cp.progress + ack.progress,
  bytes: cp.bytes + ack.bytes,
  alignmentMs: cp.alignmentMs + ack.alignmentMs,
  lastAckAt: ack.at,
});

/** The increments `countAck` applies, for a store that adds them in place. */
export const ackIncrements = (ack: AckInfo) => ({
  acked: 1,
  finished: ack.finished ? 1 : 0,
  progress: ack.progress,
  bytes: ack.bytes,
  alignmentMs: ack.alignmentMs,
});

/** Every expected subtask is counted and the checkpoint is still PENDING: it is to be completed. */
export const awaitsCompletion = (cp: CheckpointRecord): boolean => cp.status === 'PENDING' && cp.acked >= expectedCount(cp);

export const completedRecord = (cp: CheckpointRecord, now: number): CheckpointRecord => ({ ...cp, status: 'COMPLETED', completedAt: now });

/** The outcome of an ack that counted (`counted`) or found its own item, once no completion is due or it was lost. */
export const settledAck = (cp: CheckpointRecord, counted: boolean): AckOutcome => ({ kind: counted ? 'acked' : 'duplicate', record: cp });

/**
 * The whole transition on one atomic store (the memory store; tests): admit, count, and
 * complete when the count is full. `alreadyAcked`: this subtask's ack item exists.
 */
export function applyAck(cp: CheckpointRecord | null, subtask: SubtaskKey, alreadyAcked: boolean, ack: AckInfo, now: number): AckOutcome {
  const admission = admitAck(cp, subtask, alreadyAcked);
  if (admission.kind === 'rejected') return admission;
  const counted = admission.kind === 'count' ? countAck(cp!, ack) : cp!;
  if (awaitsCompletion(counted)) return { kind: 'completed', record: completedRecord(counted, now) };
  return settledAck(counted, admission.kind === 'count');
}
