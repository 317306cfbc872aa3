/** When `tidemark dispose` must refuse: the savepoint is a live base, being read by a restore, or still being taken. */
import { describe, expect, it } from 'vitest';
import { checkpointId, generation, jobName } from '../../lib/core/ids.js';
import { initialJobRecord, newCheckpointRecord, type CheckpointRecord, type JobRecord } from '../../lib/core/manifest.js';
import { savepointInUse } from '../../local/savepoint-commands.js';

const sp = (id: number, gen: number, status: CheckpointRecord['status'] = 'COMPLETED'): CheckpointRecord => ({
  ...newCheckpointRecord({ id: checkpointId(id), gen: generation(gen), stages: {}, now: 0, savepoint: { name: `sp${id}`, stop: false }, activity: 0 }),
  status,
});
const plain = (id: number, gen: number): CheckpointRecord => ({ ...sp(id, gen), savepoint: null });
const job = (patch: Partial<JobRecord>): JobRecord => ({ ...initialJobRecord(jobName('j'), generation(2)), ...patch });

describe('savepointInUse', () => {
  it.each([
    ['the base of a generation with no checkpoint of its own', job({ lineage: { gen: generation(2), base: checkpointId(3) } }), [sp(3, 1)], /generation 2 was restored from it/],
    ['the base, once the generation has one of its own', job({ lineage: { gen: generation(2), base: checkpointId(3) } }), [sp(3, 1), plain(4, 2)], null],
    ['another generation’s old savepoint', job({ lineage: { gen: generation(2), base: null } }), [sp(3, 1)], null],
    [
      'what a restore in progress reads',
      job({ status: 'RESTORING', restore: { gen: generation(3), request: { kind: 'savepoint', name: 'sp3' }, previous: { gen: generation(2), base: null }, from: null, parallelism: {}, startedAt: 0, reason: 'r' } }),
      [sp(3, 1)],
      /the restore to generation 3 reads it/,
    ],
    ['one still being taken', job({ stopping: checkpointId(3) }), [sp(3, 2, 'PENDING')], /still being taken/],
  ] as const)('%s', (_, j, all, expected) => {
    const why = savepointInUse(j, all, all[0]!);
    if (expected === null) expect(why).toBeNull();
    else expect(why).toMatch(expected);
  });
});
