/**
 * Canceling a job (core/cancel.ts, runtime/job-cancel.ts): which jobs a cancel takes, what
 * the one write leaves on the job item, which checkpoints are fenced, what the coordinator
 * and the operators do with a canceled job afterwards.
 */
import { describe, expect, it } from 'vitest';
import { MemoryManifestStore } from '../../lib/adapters/memory/memory-manifest-store.js';
import { CANCEL_ABORT_REASON, canceledJob, cancelRefusal, checkpointsToFence, dropsAfterCancel } from '../../lib/core/cancel.js';
import { checkpointSettings } from '../../lib/core/config.js';
import { decideTick } from '../../lib/core/coordinator.js';
import { checkpointId, generation, jobName, type SubtaskKey } from '../../lib/core/ids.js';
import { initialJobRecord, newCheckpointRecord, type CheckpointRecord, type JobRecord, type JobStatus } from '../../lib/core/manifest.js';
import { cancelJob } from '../../lib/runtime/job-cancel.js';

const G = generation(2);
const running: JobRecord = { ...initialJobRecord(jobName('wc'), G), status: 'RUNNING', nextCheckpointId: 6 };
const item = (id: number, status: CheckpointRecord['status']): CheckpointRecord => ({
  ...newCheckpointRecord({ id: checkpointId(id), gen: G, stages: { src: 1 }, now: 0, savepoint: null, activity: 0 }),
  status,
});

describe('cancel decisions', () => {
  it.each<[JobStatus, string | null]>([
    ['RUNNING', null],
    ['RESTORING', null],
    ['FINISHED', 'job wc is FINISHED, not RUNNING: there is nothing to cancel'],
    ['FAILED', 'job wc is FAILED, not RUNNING: there is nothing to cancel'],
    ['STOPPED', 'job wc is STOPPED, not RUNNING: there is nothing to cancel'],
    ['CANCELED', 'job wc is CANCELED, not RUNNING: there is nothing to cancel'],
  ])('a %s job: refusal %s', (status, refusal) => {
    expect(cancelRefusal({ ...running, status })).toBe(refusal);
    expect(canceledJob({ ...running, status }, 'why') === null).toBe(refusal !== null);
  });

  it('drops whatever was under way with the job, and keeps its counters', () => {
    const busy: JobRecord = {
      ...running,
      savepointRequest: { name: 'sp', stop: true },
      stopping: checkpointId(5),
      failover: { reason: 'r', at: 1, restartAt: 2 },
    };
    expect(canceledJob(busy, 'canceled by tidemark cancel')).toEqual({
      ...running,
      status: 'CANCELED',
      detail: 'canceled by tidemark cancel',
    });
  });

  it('fences pending checkpoints and ids allocated without an item', () => {
    const items = [item(1, 'COMPLETED'), item(2, 'ABORTED'), item(3, 'PENDING')];
    expect(checkpointsToFence(running, items)).toEqual({ pending: [3], tombstones: [4, 5] });
    expect(checkpointsToFence({ nextCheckpointId: 4 }, items)).toEqual({ pending: [3], tombstones: [] });
  });

  it('has operators drop envelopes of canceled generations, but not commits or a later generation', () => {
    const canceled = { ...running, status: 'CANCELED' as const };
    expect(dropsAfterCancel(canceled, 2, 'records')).toBe(true);
    expect(dropsAfterCancel(canceled, 2, 'poll')).toBe(true);
    expect(dropsAfterCancel(canceled, 1, 'barrier')).toBe(true);
    expect(dropsAfterCancel(canceled, 2, 'commit')).toBe(false);
    expect(dropsAfterCancel(canceled, 3, 'records')).toBe(false);
    expect(dropsAfterCancel(running, 2, 'records')).toBe(false);
    expect(dropsAfterCancel(null, 2, 'records')).toBe(false);
  });

  it('leaves the coordinator nothing to trigger, only pending checkpoints to abort', () => {
    const facts = {
      now: 100_000,
      settings: checkpointSettings({ interval: 1000, timeout: 30_000 }),
      job: { ...running, status: 'CANCELED' as const, lastTriggerAt: 0 },
      checkpoints: [item(1, 'COMPLETED'), item(3, 'PENDING')],
      sourceSubtasks: 1,
      sinkSubtasks: [] as SubtaskKey[],
      restoreLeaseMs: 60_000,
    };
    expect(decideTick(facts)).toEqual([{ kind: 'abort', checkpoint: 3, reason: CANCEL_ABORT_REASON }]);
    expect(decideTick({ ...facts, checkpoints: [item(1, 'COMPLETED')] })).toEqual([]);
  });
});

describe('cancelJob', () => {
  async function store(job: JobRecord, items: CheckpointRecord[]) {
    const manifest = new MemoryManifestStore();
    await manifest.putJob(job, null);
    for (const c of items) await manifest.createCheckpoint(job.job, c);
    return manifest;
  }

  it('cancels in one write, aborts the pending checkpoint and tombstones the allocated id', async () => {
    const manifest = await store({ ...running, nextCheckpointId: 4 }, [item(1, 'COMPLETED'), item(2, 'PENDING')]);
    const outcome = await cancelJob(manifest, 'wc', 7, 'canceled by test');
    expect(outcome).toMatchObject({ kind: 'canceled', aborted: [2], job: { status: 'CANCELED', detail: 'canceled by test' } });
    const all = await manifest.listCheckpoints('wc');
    expect(all.map((c) => [c.id, c.status, c.reason])).toEqual(
      expect.arrayContaining([
        [1, 'COMPLETED', null],
        [2, 'ABORTED', CANCEL_ABORT_REASON],
        [3, 'ABORTED', CANCEL_ABORT_REASON],
      ]),
    );
    // The trigger that allocated id 3 can no longer create its item.
    expect(await manifest.createCheckpoint('wc', item(3, 'PENDING'))).toBe(false);
  });

  it('refuses a job that is not running and writes nothing; says when there is no job', async () => {
    const manifest = await store({ ...running, status: 'CANCELED' }, [item(1, 'PENDING')]);
    const before = await manifest.getJob('wc');
    expect(await cancelJob(manifest, 'wc', 7, 'again')).toEqual({ kind: 'refused', reason: 'job wc is CANCELED, not RUNNING: there is nothing to cancel' });
    expect(await manifest.getJob('wc')).toEqual(before);
    expect((await manifest.getCheckpoint('wc', checkpointId(1)))!.status).toBe('PENDING');
    expect(await cancelJob(manifest, 'nope', 7, 'x')).toEqual({ kind: 'missing' });
  });

  it('lets only one of two concurrent cancels win', async () => {
    const manifest = await store(running, []);
    const outcomes = await Promise.all([cancelJob(manifest, 'wc', 1, 'a'), cancelJob(manifest, 'wc', 1, 'b')]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['canceled', 'refused']);
  });
});
