/**
 * The job's status machine: every (from, to) pair against the table, and its enforcement in
 * the one place the job item changes (updateJob), which writes nothing on an illegal move.
 */
import { describe, expect, it } from 'vitest';
import { MemoryManifestStore } from '../../lib/adapters/memory/memory-manifest-store.js';
import { InvariantError } from '../../lib/core/errors.js';
import { generation, jobName } from '../../lib/core/ids.js';
import { checkTransition, INITIAL_JOB_STATUS, isFinalStatus, isLegalTransition, JOB_TRANSITIONS } from '../../lib/core/job-status.js';
import { initialJobRecord, type JobStatus } from '../../lib/core/manifest.js';
import { updateJob } from '../../lib/runtime/job-records.js';

const STATUSES: JobStatus[] = ['RESTORING', 'RUNNING', 'FAILED', 'FINISHED', 'STOPPED', 'CANCELED'];

/** Every move the system makes today, and why; any pair not here is illegal. */
const LEGAL: [JobStatus, JobStatus, string][] = [
  ['RESTORING', 'RESTORING', 'the restore records its progress (the checkpoint it chose)'],
  ['RESTORING', 'RUNNING', 'the restore is done'],
  ['RESTORING', 'FAILED', 'the restore cannot proceed (RestoreError)'],
  ['RESTORING', 'CANCELED', 'tidemark cancel of a job being restored'],
  ['RUNNING', 'RUNNING', 'timer tokens, checkpoint ids, failover requests, dead-letter counts'],
  ['RUNNING', 'RESTORING', 'a failover, or a restore the user asked for'],
  ['RUNNING', 'FAILED', 'the restart strategy gives up'],
  ['RUNNING', 'FINISHED', 'every source finished and the last checkpoint committed'],
  ['RUNNING', 'STOPPED', 'stop-with-savepoint completed'],
  ['RUNNING', 'CANCELED', 'tidemark cancel: ended without a savepoint'],
  ['FAILED', 'FAILED', 'dead-letter counts, timer moves of a failed job'],
  ['FAILED', 'RESTORING', 'restoring a failed job (from a savepoint or its latest checkpoint)'],
  ['FINISHED', 'FINISHED', 'late dead-letter counts and timer moves'],
  ['FINISHED', 'RESTORING', 'restoring a finished job'],
  ['STOPPED', 'STOPPED', 'late dead-letter counts and timer moves'],
  ['STOPPED', 'RESTORING', 'resuming from the savepoint it stopped with'],
  ['CANCELED', 'CANCELED', 'late dead-letter counts and timer moves'],
  ['CANCELED', 'RESTORING', 'restore --from latest after a cancel (its completed checkpoints stay)'],
];

const pairs = STATUSES.flatMap((from) => STATUSES.map((to) => [from, to] as const));
const legal = new Set(LEGAL.map(([from, to]) => `${from}→${to}`));

describe('job status transitions', () => {
  it.each(pairs.map(([from, to]) => [from, to, legal.has(`${from}→${to}`)] as const))('%s → %s legal: %s', (from, to, ok) => {
    expect(isLegalTransition(from, to)).toBe(ok);
    if (ok) expect(() => checkTransition(from, to)).not.toThrow();
    else expect(() => checkTransition(from, to, 'wc')).toThrow(new RegExp(`^job wc: illegal status change ${from} → ${to} `));
  });

  it('throws an InvariantError naming both statuses and where the first may go', () => {
    expect(() => checkTransition('FINISHED', 'RUNNING')).toThrow(InvariantError);
    expect(() => checkTransition('FINISHED', 'RUNNING')).toThrow('illegal status change FINISHED → RUNNING (FINISHED goes only to RESTORING)');
    expect(() => checkTransition('bogus' as JobStatus, 'RUNNING')).toThrow('illegal status change bogus → RUNNING (bogus goes nowhere)');
  });

  it('lets every status stay, and leave a final one only by a restore', () => {
    for (const s of STATUSES) expect(JOB_TRANSITIONS[s]).toContain(s);
    for (const s of ['FAILED', 'FINISHED', 'STOPPED', 'CANCELED'] as const) expect(JOB_TRANSITIONS[s]).toEqual([s, 'RESTORING']);
    expect(STATUSES.filter(isFinalStatus)).toEqual(['FAILED', 'FINISHED', 'STOPPED', 'CANCELED']);
    expect(initialJobRecord(jobName('j'), generation(1)).status).toBe(INITIAL_JOB_STATUS);
  });
});

describe('updateJob enforces the table', () => {
  async function jobIn(status: JobStatus) {
    const manifest = new MemoryManifestStore();
    const job = jobName('j');
    await manifest.putJob({ ...initialJobRecord(job, generation(1)), status }, null);
    return { manifest, job };
  }

  it('writes a legal change', async () => {
    const { manifest, job } = await jobIn('RUNNING');
    expect(await updateJob(manifest, job, (j) => ({ ...j, status: 'STOPPED' }))).toMatchObject({ status: 'STOPPED' });
    expect((await manifest.getJob(job))!.status).toBe('STOPPED');
  });

  it('refuses an illegal one with an InvariantError and writes nothing', async () => {
    const { manifest, job } = await jobIn('FINISHED');
    const before = await manifest.getJob(job);
    const moved = updateJob(manifest, job, (j) => ({ ...j, status: 'RUNNING', activity: j.activity + 1 }));
    await expect(moved).rejects.toThrow(InvariantError);
    await expect(updateJob(manifest, job, (j) => ({ ...j, status: 'FAILED' }))).rejects.toThrow('job j: illegal status change FINISHED → FAILED');
    expect(await manifest.getJob(job)).toEqual(before);
  });

  it('lets a mutator that changes nothing but other fields through, in any status', async () => {
    for (const status of STATUSES) {
      const { manifest, job } = await jobIn(status);
      expect(await updateJob(manifest, job, (j) => ({ ...j, activity: j.activity + 1 }))).toMatchObject({ status, activity: 1 });
    }
  });
});
