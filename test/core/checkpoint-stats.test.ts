/**
 * Checkpoint statistics (core/checkpoint-stats) against hand-built manifests: Flink's
 * status names and field meanings, counts, the summary over completed checkpoints, the
 * latest restore, and per-subtask figures of one checkpoint.
 */
import { describe, expect, it } from 'vitest';
import { checkpointDetail, checkpointStatistics, stageFigures } from '../../lib/core/checkpoint-stats.js';
import { DEFAULT_CHECKPOINTS } from '../../lib/core/config.js';
import { checkpointId, generation, jobName, subtaskKey, stageId, type SubtaskKey } from '../../lib/core/ids.js';
import { applyAck, stagesOf } from '../../lib/core/checkpoint-acks.js';
import { initialJobRecord, newCheckpointRecord, type AckInfo, type CheckpointRecord } from '../../lib/core/manifest.js';

const A = subtaskKey({ stage: stageId('src'), index: 0 });
const B = subtaskKey({ stage: stageId('sink'), index: 0 });

/** The acks of each checkpoint `checkpoint` built, by id. */
const acksOf = new Map<number, Record<string, AckInfo>>();

/** A checkpoint triggered at `at`, acknowledged by `acks` (subtask, ack time, bytes, alignment). */
function checkpoint(id: number, at: number, acks: [SubtaskKey, number, number, number][], extra: Partial<CheckpointRecord> = {}): CheckpointRecord {
  let record = newCheckpointRecord({ id: checkpointId(id), gen: generation(1), stages: stagesOf([A, B]), now: at, savepoint: null, activity: 0 });
  const stored: Record<string, AckInfo> = {};
  for (const [subtask, ackAt, bytes, alignmentMs] of acks) {
    // The runtime's snapshot-time figures, made up from the others so each is told apart.
    const figures = { emitted: 2 * bytes, watermark: ackAt - 100, syncMs: bytes / 10, asyncMs: bytes / 5 };
    const info = { key: `k${id}`, bytes, alignmentMs, finished: false, progress: bytes, at: ackAt, ...figures };
    const outcome = applyAck(record, subtask, subtask in stored, info, ackAt);
    if (outcome.kind === 'rejected') throw new Error('rejected');
    stored[subtask] = info;
    record = outcome.record;
  }
  acksOf.set(id, stored);
  return { ...record, ...extra };
}

const job = { ...initialJobRecord(jobName('j'), generation(3)), nextCheckpointId: 6, lineage: { gen: generation(3), base: checkpointId(2) } };
const cps = [
  checkpoint(1, 1000, [[A, 1100, 10, 0], [B, 1300, 30, 50]]),
  checkpoint(2, 2000, [[A, 2050, 20, 0], [B, 2500, 40, 150]], { savepoint: 'sp-1' }),
  checkpoint(3, 3000, [[A, 3010, 5, 0]], { status: 'ABORTED', reason: 'CHECKPOINT_EXPIRED' }),
  checkpoint(5, 5000, [[A, 5020, 7, 0]]),
];

describe('checkpoint statistics', () => {
  const stats = checkpointStatistics(job, cps, DEFAULT_CHECKPOINTS);

  it('counts ids allocated, each status in the history, and restores', () => {
    expect(stats.counts).toEqual({ triggered: 5, inProgress: 1, completed: 2, failed: 1, restored: 2 });
  });

  it.each([
    // id, status, end-to-end, size, acked, reason
    [5, 'IN_PROGRESS', 20, 7, 1, null],
    [3, 'FAILED', 10, 5, 1, 'CHECKPOINT_EXPIRED'],
    [2, 'COMPLETED', 500, 60, 2, null],
    [1, 'COMPLETED', 300, 40, 2, null],
  ] as const)('history, newest first: checkpoint %i is %s', (id, status, duration, size, acked, reason) => {
    const entry = stats.history.find((h) => h.id === id)!;
    expect(entry).toMatchObject({ status, endToEndDuration: duration, checkpointedSize: size, numSubtasks: 2, numAcknowledgedSubtasks: acked, failureReason: reason });
    expect(stats.history.map((h) => h.id)).toEqual([5, 3, 2, 1]);
  });

  it('summarizes completed checkpoints only', () => {
    expect(stats.summary.endToEndDuration).toEqual({ min: 300, max: 500, avg: 400 });
    expect(stats.summary.checkpointedSize).toEqual({ min: 40, max: 60, avg: 50 });
    expect(stats.summary.alignmentDuration).toEqual({ min: 25, max: 75, avg: 50 });
  });

  it('names the latest restore: the savepoint the current generation started from', () => {
    expect(stats.latestRestore).toEqual({ generation: 3, checkpoint: 2, isSavepoint: true, savepoint: 'sp-1' });
    const fresh = checkpointStatistics(initialJobRecord(jobName('j'), generation(1)), [], DEFAULT_CHECKPOINTS);
    expect(fresh.latestRestore).toBeNull();
    expect(fresh.counts).toEqual({ triggered: 0, inProgress: 0, completed: 0, failed: 0, restored: 0 });
    expect(fresh.summary).toEqual({ endToEndDuration: null, checkpointedSize: null, alignmentDuration: null });
  });

  it('gives per-subtask figures of one checkpoint: ack time, start delay, alignment, size', () => {
    const detail = checkpointDetail(cps[1]!, acksOf.get(2)!);
    expect(detail.isSavepoint).toBe(true);
    expect(detail.subtasks).toEqual([
      { subtask: A, acknowledged: true, ackTimestamp: 2050, endToEndDuration: 50, startDelay: 50, alignmentDuration: 0, syncDuration: 2, asyncDuration: 4, checkpointedSize: 20, stateSize: 20, chained: 0 },
      // Its first barrier came at 2350 (acknowledged at 2500 after aligning 150 ms).
      { subtask: B, acknowledged: true, ackTimestamp: 2500, endToEndDuration: 500, startDelay: 350, alignmentDuration: 150, syncDuration: 4, asyncDuration: 8, checkpointedSize: 40, stateSize: 40, chained: 0 },
    ]);
    const pending = checkpointDetail(cps[3]!, acksOf.get(5)!);
    expect(pending.subtasks[1]).toEqual({ subtask: B, acknowledged: false, ackTimestamp: null, endToEndDuration: null, startDelay: null, alignmentDuration: null, syncDuration: null, asyncDuration: null, checkpointedSize: null, stateSize: null, chained: null });
  });

  it("gives a stage's records in and out and its watermark (the least of its subtasks') as acknowledged", () => {
    const two = [subtaskKey({ stage: stageId('count'), index: 0 }), subtaskKey({ stage: stageId('count'), index: 1 })] as const;
    let record = newCheckpointRecord({ id: checkpointId(9), gen: generation(1), stages: stagesOf([...two, A]), now: 0, savepoint: null, activity: 0 });
    const stored: Record<string, AckInfo> = {};
    const acks: [SubtaskKey, number, number, number | null][] = [[two[0], 10, 25, 5000], [two[1], 7, 11, 4000], [A, 99, 99, 9000]];
    for (const [subtask, progress, emitted, watermark] of acks) {
      const info = { key: 'k', bytes: 1, alignmentMs: 0, finished: false, progress, emitted, watermark, at: 1 };
      const outcome = applyAck(record, subtask, false, info, 1);
      if (outcome.kind === 'rejected') throw new Error('rejected');
      stored[subtask] = info;
      record = outcome.record;
    }
    expect(stageFigures(record, stored, 'count')).toEqual({ checkpoint: 9, recordsIn: 17, recordsOut: 36, watermark: 4000 });
    expect(stageFigures(record, stored, 'nope')).toBeNull();
    // One subtask without a watermark yet: the stage has none; an ack from before the figures: out unknown.
    const older = { ...stored, [two[1]]: { key: 'k', bytes: 1, alignmentMs: 0, finished: false, progress: 7, at: 1, watermark: null } };
    expect(stageFigures(record, older, 'count')).toEqual({ checkpoint: 9, recordsIn: 17, recordsOut: null, watermark: null });
  });
});
