import { describe, expect, it } from 'vitest';
import { checkpointSettings, type CheckpointSettings } from '../../lib/core/config.js';
import { decideTick, planRetention, type CoordinatorFacts } from '../../lib/core/coordinator.js';
import { checkpointId, generation, jobName, type SubtaskKey } from '../../lib/core/ids.js';
import { applyAck, countAck, stagesOf } from '../../lib/core/checkpoint-acks.js';
import { abortedTombstone, initialJobRecord, newCheckpointRecord, type AckInfo, type CheckpointRecord, type JobRecord } from '../../lib/core/manifest.js';

const G = generation(3);
const running: JobRecord = { ...initialJobRecord(jobName('j'), G), status: 'RUNNING', nextCheckpointId: 10 };
const expected = ['src/0', 'sink/0'] as SubtaskKey[];
const ack = (progress = 1, finished = false): AckInfo => ({ key: 'k', bytes: 1, alignmentMs: 0, finished, progress, at: 0 });

/** A checkpoint of `expected`, counting `acks` (by default: none, or both acks of progress `id` when COMPLETED). */
function cp(id: number, status: CheckpointRecord['status'], at: number, extra: Partial<CheckpointRecord> & { acks?: AckInfo[] } = {}): CheckpointRecord {
  const { acks = status === 'COMPLETED' ? [ack(id), ack(id)] : [], ...rest } = extra;
  const base = acks.reduce(countAck, newCheckpointRecord({ id: checkpointId(id), gen: G, stages: stagesOf(expected), now: at, savepoint: null, activity: 0 }));
  return { ...base, status, triggersSent: true, notified: true, completedAt: status === 'PENDING' ? null : at + 100, ...rest };
}

function facts(over: Omit<Partial<CoordinatorFacts>, 'settings'> & { settings?: Partial<CheckpointSettings> } = {}): CoordinatorFacts {
  return {
    now: 100_000,
    job: running,
    checkpoints: [],
    sourceSubtasks: 1,
    sinkSubtasks: ['sink/0'] as SubtaskKey[],
    restoreLeaseMs: 60_000,
    ...over,
    settings: checkpointSettings({ interval: 10_000, timeout: 30_000, ...over.settings }),
  };
}

const kinds = (f: CoordinatorFacts) => decideTick(f).map((d) => (d.kind === 'skip' ? `skip:${d.reason}` : d.kind));

describe('CheckpointCoordinator decisions', () => {
  it('triggers when due and skips while not due', () => {
    expect(kinds(facts({ job: { ...running, lastTriggerAt: 95_000 } }))).toEqual(['skip:NOT_DUE']);
    expect(kinds(facts({ job: { ...running, lastTriggerAt: 90_000 } }))).toEqual(['trigger']);
    expect(kinds(facts({ settings: { interval: null } }))).toEqual(['skip:DISABLED']);
  });

  it('respects maxConcurrentCheckpoints and minPauseBetweenCheckpoints', () => {
    const pending = cp(9, 'PENDING', 95_000);
    expect(kinds(facts({ checkpoints: [pending] }))).toEqual(['skip:TOO_MANY_CONCURRENT']);
    expect(kinds(facts({ checkpoints: [pending], settings: { maxConcurrentCheckpoints: 2 } }))).toEqual(['trigger']);
    const done = cp(9, 'COMPLETED', 99_000 - 100);
    expect(kinds(facts({ checkpoints: [done], settings: { minPauseBetweenCheckpoints: 5000 } }))).toEqual(['skip:MIN_PAUSE']);
  });

  it('aborts a pending checkpoint at its timeout, then fails over past tolerableFailedCheckpoints', () => {
    const old = cp(9, 'PENDING', 70_000);
    expect(decideTick(facts({ checkpoints: [old] }))[0]).toEqual({ kind: 'abort', checkpoint: 9, reason: 'CHECKPOINT_EXPIRED' });
    expect(kinds(facts({ checkpoints: [old] }))).toEqual(['abort', 'fail-over']);
    expect(kinds(facts({ checkpoints: [old], settings: { tolerableFailedCheckpoints: 1 } }))).toEqual(['abort', 'trigger']);
    const history = [cp(6, 'COMPLETED', 10_000), cp(7, 'ABORTED', 20_000, { reason: 'CHECKPOINT_EXPIRED' }), old];
    expect(kinds(facts({ checkpoints: history, settings: { tolerableFailedCheckpoints: 1 } }))).toEqual(['abort', 'fail-over']);
    // a completed checkpoint resets the count; aborts caused by a restore do not count
    const reset = [cp(7, 'ABORTED', 20_000, { reason: 'CHECKPOINT_EXPIRED' }), cp(8, 'COMPLETED', 30_000), cp(9, 'ABORTED', 40_000, { reason: 'JOB_RESTORE' })];
    expect(kinds(facts({ checkpoints: reset }))).not.toContain('fail-over');
  });

  it('skips when the job made no progress since the previous checkpoint', () => {
    const a = cp(7, 'COMPLETED', 10_000, { acks: [ack(5), ack(5)] });
    const b = cp(8, 'COMPLETED', 50_000, { acks: [ack(5), ack(5)] });
    const settings = { retained: 2 };
    expect(kinds(facts({ checkpoints: [a, b], settings }))).toEqual(['skip:IDLE']);
    expect(kinds(facts({ checkpoints: [a, b], settings, job: { ...running, activity: 1 } }))).toEqual(['trigger']);
  });

  it('resends triggers and commit notifications that a crashed tick did not finish', () => {
    const f = facts({ checkpoints: [cp(8, 'COMPLETED', 10_000, { notified: false }), cp(9, 'PENDING', 99_000, { triggersSent: false })] });
    expect(decideTick(f).filter((d) => d.kind !== 'skip')).toEqual([
      { kind: 'resend-triggers', checkpoint: 9 },
      { kind: 'notify-commit', checkpoint: 8, last: false },
    ]);
  });

  it('takes a final checkpoint once every source finished, then finishes the job once its sinks committed it', () => {
    const finishedSources = { ...running, sourcesFinished: ['src/0'] };
    expect(kinds(facts({ job: finishedSources, settings: { interval: null } }))).toEqual(['trigger']);
    const final = cp(9, 'COMPLETED', 90_000, { acks: [ack(3, true), ack(3, true)] });
    // completed and notified, but the sink has not committed yet: not FINISHED, nothing triggered
    expect(kinds(facts({ job: finishedSources, checkpoints: [final] }))).toEqual(['skip:COMMITTING']);
    expect(kinds(facts({ job: finishedSources, checkpoints: [{ ...final, notified: false }] }))).toEqual(['notify-commit', 'skip:COMMITTING']);
    // a commit still unreported a timeout after completion is notified again
    expect(decideTick(facts({ job: finishedSources, checkpoints: [final], now: 90_100 + 30_000 }))).toContainEqual({ kind: 'notify-commit', checkpoint: 9, last: true });
    const committed = { ...final, committed: ['sink/0'] as SubtaskKey[] };
    expect(kinds(facts({ job: finishedSources, checkpoints: [committed] }))).toEqual(['finish']);
    // every sink subtask must have committed
    const two = ['sink/0', 'sink/1'] as SubtaskKey[];
    expect(kinds(facts({ job: finishedSources, checkpoints: [committed], sinkSubtasks: two }))).toEqual(['skip:COMMITTING']);
    expect(kinds(facts({ job: finishedSources, checkpoints: [{ ...final, committed: two }], sinkSubtasks: two }))).toEqual(['finish']);
  });

  it('triggers a requested savepoint even when idle or not due, and stops after a stop-with-savepoint', () => {
    const job = { ...running, lastTriggerAt: 99_000, savepointRequest: { name: 'sp', stop: true } };
    expect(decideTick(facts({ job }))).toEqual([{ kind: 'trigger', savepoint: { name: 'sp', stop: true } }]);
    const sp = cp(9, 'PENDING', 99_500, { savepoint: 'sp', stop: true });
    const stopping = { ...running, stopping: checkpointId(9), lastTriggerAt: 99_500 };
    expect(kinds(facts({ job: stopping, checkpoints: [sp], settings: { maxConcurrentCheckpoints: 3 } }))).toEqual(['skip:STOPPING']);
    // its id is allocated but its item not written yet: still nothing else may be triggered
    expect(kinds(facts({ job: stopping, checkpoints: [], settings: { maxConcurrentCheckpoints: 3 } }))).toEqual(['skip:STOPPING']);
    expect(kinds(facts({ job: stopping, checkpoints: [], now: 99_500 + 30_000 }))).toEqual(['fail-over']);
    expect(kinds(facts({ job: stopping, checkpoints: [{ ...sp, status: 'COMPLETED' }] }))).toEqual(['skip:COMMITTING']);
    expect(kinds(facts({ job: stopping, checkpoints: [{ ...sp, status: 'COMPLETED', committed: ['sink/0'] as SubtaskKey[] }] }))).toEqual(['stop']);
    expect(kinds(facts({ job: stopping, checkpoints: [{ ...sp, status: 'ABORTED', reason: 'CHECKPOINT_EXPIRED' }], settings: { tolerableFailedCheckpoints: 5 } }))).toEqual(['fail-over']);
  });

  it('runs a requested failover after the restart delay, and resumes a restore whose runner went silent', () => {
    const failing = { ...running, failover: { reason: 'x', at: 99_000, restartAt: 101_000 } };
    expect(kinds(facts({ job: failing }))).toEqual([]);
    expect(kinds(facts({ job: failing, now: 101_000 }))).toEqual(['restore']);
    const restoring: JobRecord = {
      ...running,
      status: 'RESTORING',
      restore: { gen: G, request: { kind: 'latest' }, previous: { gen: generation(2), base: null }, from: null, parallelism: {}, startedAt: 90_000, reason: 'x' },
    };
    expect(kinds(facts({ job: restoring }))).toEqual([]);
    expect(kinds(facts({ job: restoring, now: 150_000 }))).toEqual(['resume-restore']);
  });
});

describe('retention', () => {
  const list = [cp(1, 'COMPLETED', 0), cp(2, 'COMPLETED', 0, { savepoint: 'keep-me' }), cp(3, 'ABORTED', 0), cp(4, 'COMPLETED', 0), cp(5, 'COMPLETED', 0), cp(6, 'PENDING', 0)];

  it('keeps the newest `retained` completed checkpoints and every savepoint', () => {
    expect(planRetention(list, running, 1)).toEqual({ discard: [1, 4], retire: [], forget: [] });
    expect(planRetention(list, running, 2)).toEqual({ discard: [1], retire: [], forget: [] });
  });

  it('keeps discarded and failed checkpoints among the last ten ids for the history, and forgets older ones', () => {
    const long = [cp(1, 'DISCARDED', 0), cp(2, 'ABORTED', 0), cp(3, 'DISCARDED', 0), ...Array.from({ length: 9 }, (_, i) => cp(4 + i, 'DISCARDED', 0)), cp(13, 'COMPLETED', 0)];
    // Ids 4..13 are the history window: 1, 2 and 3 are forgotten; nothing completed to discard.
    expect(planRetention(long, running, 1)).toEqual({ discard: [], retire: [], forget: [1, 2, 3] });
    // A tombstone (an allocated id fenced before its item existed) is never forgotten: a trigger
    // paused between allocating the id and creating the item must still find it there.
    const tombstone = abortedTombstone(checkpointId(2), 1, 'CHECKPOINT_COORDINATOR_SUSPEND', 0);
    expect(planRetention([long[0]!, tombstone, ...long.slice(2)], running, 1)).toEqual({ discard: [], retire: [], forget: [1, 3] });
    // Nothing newer completed: a failed checkpoint stays, however old (its figures are the latest news).
    expect(planRetention([cp(1, 'ABORTED', 0), ...Array.from({ length: 10 }, (_, i) => cp(2 + i, 'PENDING', 0))], running, 1)).toEqual({ discard: [], retire: [], forget: [] });
  });

  it('never deletes the checkpoint a restore is reading, nor the base of a generation without its own', () => {
    const restoring = { ...running, restore: { gen: G, request: { kind: 'latest' as const }, previous: { gen: generation(2), base: null }, from: { kind: 'checkpoint' as const, checkpoint: checkpointId(1) }, parallelism: {}, startedAt: 0, reason: '' } };
    expect(planRetention(list, restoring, 1)).toEqual({ discard: [4], retire: [], forget: [] });
    const older = list.map((c) => ({ ...c, gen: generation(2) }));
    expect(planRetention(older, { ...running, lineage: { gen: G, base: checkpointId(4) } }, 1)).toEqual({ discard: [1], retire: [], forget: [] });
  });
});

describe('retention of snapshot chains', () => {
  // Snapshots in checkpoint N may chain onto those of N-2 and N-1 (chain span 3).
  const chained = (id: number, status: CheckpointRecord['status'], extra: Partial<CheckpointRecord> = {}) => cp(id, status, 0, { chainSpan: 3, ...extra });
  const job = { ...running, nextCheckpointId: 8 };

  it('marks what the kept checkpoints may still chain onto, and deletes the rest', () => {
    const list = [1, 2, 3, 4, 5, 6].map((id) => chained(id, 'COMPLETED'));
    // Kept: 6, which may read 4 and 5; the next checkpoint (8) may read 6 and 7.
    expect(planRetention(list, job, 1, 3)).toEqual({ discard: [1, 2, 3], retire: [4, 5], forget: [] });
    // A restore reading 2 keeps 2 and what it chains onto (1); 3 is out of every reach.
    const restoring = { ...job, restore: { gen: G, request: { kind: 'latest' as const }, previous: { gen: generation(2), base: null }, from: { kind: 'checkpoint' as const, checkpoint: checkpointId(2) }, parallelism: {}, startedAt: 0, reason: '' } };
    expect(planRetention(list, restoring, 1, 3)).toEqual({ discard: [3], retire: [1, 4, 5], forget: [] });
  });

  it('a pending checkpoint holds its floor too; a savepoint holds none (it is whole)', () => {
    const list = [chained(1, 'COMPLETED'), chained(2, 'COMPLETED'), chained(3, 'PENDING'), chained(4, 'COMPLETED', { savepoint: 'sp', chainSpan: 1 }), chained(5, 'COMPLETED'), chained(6, 'COMPLETED')];
    expect(planRetention(list, job, 1, 3)).toEqual({ discard: [], retire: [1, 2, 5], forget: [] });
  });

  it('forgets a discarded or aborted checkpoint only once it is below the floor', () => {
    const list = [chained(1, 'DISCARDED'), chained(2, 'ABORTED'), ...Array.from({ length: 10 }, (_, i) => chained(3 + i, 'DISCARDED')), chained(13, 'COMPLETED')];
    const later = { ...running, nextCheckpointId: 14 };
    // Ids 4..13 are the history window; 13 reaches back to 11, checkpoint 14 to 12.
    expect(planRetention(list, later, 1, 3)).toEqual({ discard: [], retire: [], forget: [1, 2, 3] });
    // A long span: 13 may reach back to 2, so only 1 goes.
    expect(planRetention(list.map((c) => ({ ...c, chainSpan: 12 })), later, 1, 12)).toEqual({ discard: [], retire: [], forget: [1] });
  });
});

describe('the ack transition', () => {
  it('completes exactly once, with the last expected ack; duplicates and strangers change nothing', () => {
    let record = cp(9, 'PENDING', 0);
    const first = applyAck(record, 'src/0' as SubtaskKey, false, ack(), 1);
    expect(first.kind).toBe('acked');
    record = (first as { record: CheckpointRecord }).record;
    expect(record).toMatchObject({ acked: 1, progress: 1, status: 'PENDING' });
    // A duplicate is recognised by its ack item: counted once.
    expect(applyAck(record, 'src/0' as SubtaskKey, true, ack(), 2)).toEqual({ kind: 'duplicate', record });
    expect(applyAck(record, 'other/0' as SubtaskKey, false, ack(), 2)).toEqual({ kind: 'rejected', status: 'PENDING' });
    expect(applyAck(record, 'sink/1' as SubtaskKey, false, ack(), 2)).toEqual({ kind: 'rejected', status: 'PENDING' });
    const last = applyAck(record, 'sink/0' as SubtaskKey, false, ack(), 3);
    expect(last.kind).toBe('completed');
    expect((last as { record: CheckpointRecord }).record).toMatchObject({ status: 'COMPLETED', completedAt: 3, acked: 2 });
    expect(applyAck({ ...record, status: 'ABORTED' }, 'sink/0' as SubtaskKey, false, ack(), 3)).toEqual({ kind: 'rejected', status: 'ABORTED' });
    expect(applyAck(null, 'sink/0' as SubtaskKey, false, ack(), 3)).toEqual({ kind: 'rejected', status: 'MISSING' });
    // Counted, but the completion was lost (a crash between the two writes): the duplicate completes.
    const full = countAck(record, ack());
    expect(applyAck(full, 'sink/0' as SubtaskKey, true, ack(), 4)).toMatchObject({ kind: 'completed', record: { status: 'COMPLETED', completedAt: 4, acked: 2 } });
  });
});
