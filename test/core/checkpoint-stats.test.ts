/**
 * Checkpoint statistics (core/checkpoint-stats) against hand-built manifests: Flink's
 * status names and field meanings, counts, the summary over completed checkpoints, the
 * latest restore, and per-subtask figures of one checkpoint.
 */
import { describe, expect, it } from 'vitest';
import { checkpointDetail, checkpointStatistics } from '../../lib/core/checkpoint-stats.js';
import { DEFAULT_CHECKPOINTS } from '../../lib/core/config.js';
import { checkpointId, generation, jobName, subtaskKey, stageId, type SubtaskKey } from '../../lib/core/ids.js';
import { applyAck, initialJobRecord, newCheckpointRecord, type CheckpointRecord } from '../../lib/core/manifest.js';

const A = subtaskKey({ stage: stageId('src'), index: 0 });
const B = subtaskKey({ stage: stageId('sink'), index: 0 });

/** A checkpoint triggered at `at`, acknowledged by `acks` (subtask, ack time, bytes, alignment). */
function checkpoint(id: number, at: number, acks: [SubtaskKey, number, number, number][], extra: Partial<CheckpointRecord> = {}): CheckpointRecord {
  let record = newCheckpointRecord({ id: checkpointId(id), gen: generation(1), expected: [A, B], now: at, savepoint: null, activity: 0 });
  for (const [subtask, ackAt, bytes, alignmentMs] of acks) {
    const outcome = applyAck(record, subtask, { key: `k${id}`, bytes, alignmentMs, finished: false, progress: 0, at: ackAt }, ackAt);
    if (outcome.kind === 'rejected') throw new Error('rejected');
    record = outcome.record;
  }
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
    expect(stats.summary.alignmentDuration).toEqual({ min: 0, max: 150, avg: 50 });
  });

  it('names the latest restore: the savepoint the current generation started from', () => {
    expect(stats.latestRestore).toEqual({ generation: 3, checkpoint: 2, isSavepoint: true, savepoint: 'sp-1' });
    const fresh = checkpointStatistics(initialJobRecord(jobName('j'), generation(1)), [], DEFAULT_CHECKPOINTS);
    expect(fresh.latestRestore).toBeNull();
    expect(fresh.counts).toEqual({ triggered: 0, inProgress: 0, completed: 0, failed: 0, restored: 0 });
    expect(fresh.summary).toEqual({ endToEndDuration: null, checkpointedSize: null, alignmentDuration: null });
  });

  it('gives per-subtask figures of one checkpoint: ack time, start delay, alignment, size', () => {
    const detail = checkpointDetail(cps[1]!);
    expect(detail.isSavepoint).toBe(true);
    expect(detail.subtasks).toEqual([
      { subtask: A, acknowledged: true, ackTimestamp: 2050, endToEndDuration: 50, startDelay: 50, alignmentDuration: 0, checkpointedSize: 20 },
      // Its first barrier came at 2350 (acknowledged at 2500 after aligning 150 ms).
      { subtask: B, acknowledged: true, ackTimestamp: 2500, endToEndDuration: 500, startDelay: 350, alignmentDuration: 150, checkpointedSize: 40 },
    ]);
    const pending = checkpointDetail(cps[3]!);
    expect(pending.subtasks[1]).toEqual({ subtask: B, acknowledged: false, ackTimestamp: null, endToEndDuration: null, startDelay: null, alignmentDuration: null, checkpointedSize: null });
  });
});
