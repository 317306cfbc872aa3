/**
 * A run's report says how often the job restarted and what failed last — operator, subtask,
 * error and input — in the summary, in --json and in the live progress line.
 */
import { describe, expect, it } from 'vitest';
import { generation, jobName } from '../../lib/core/ids.js';
import { initialJobRecord, type FailureInfo } from '../../lib/core/manifest.js';
import { runJob } from '../../local/run-job.js';
import { printSummary, progressLine } from '../../local/run-summary.js';
import { uniqueJobName } from '../support/emulator-world.js';

describe('restarts and the last failure in a run’s report', () => {
  it('a job that fails on a poison record names it in the summary and its JSON', async () => {
    const name = uniqueJobName('poison');
    process.env.TIDEMARK_TEST_JOB = name;
    const summary = await runJob({ jobFile: 'test/local/fixtures/poison-job.ts', killRate: 0, memory: true, verify: true, json: true, out: () => {}, progress: null });
    expect(summary).toMatchObject({
      status: 'FAILED',
      restarts: 2,
      lastFailure: { code: 'USER_FUNCTION', operator: 'check', subtask: 'numbers/0', input: '{"i":17}' },
    });
    expect(summary.lastFailure!.message).toContain('record 17 is poison');
    expect(JSON.parse(JSON.stringify(summary))).toMatchObject({ restarts: 2, lastFailure: { operator: 'check' } });
    const lines: string[] = [];
    printSummary(summary, (l) => lines.push(l));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^job ${name} on memory: FAILED after .*, generation 3, 2 restarts`)));
    expect(lines).toContainEqual(expect.stringMatching(/^last failure: operator check, subtask numbers\/0: USER_FUNCTION: operator check threw: record 17 is poison.*; input \{"i":17\}$/));
  });

  it('the progress line counts restarts and shows the last failure in short', () => {
    const failure: FailureInfo = { code: 'LOST_MESSAGE', message: 'channel x expected seq 3 but received 5', operator: 'counts', subtask: 'counts/1', input: null, at: 1 };
    const job = { ...initialJobRecord(jobName('j'), generation(4)), restarts: 3, lastFailure: failure };
    const line = progressLine({ elapsedMs: 2500, counters: { sourceRecords: 10, recordsToSinks: 7, kills: 1 }, job }, new Map());
    expect(line).toBe('2.5 s  in 10 records  out 7 records  checkpoints 0 (last -)  kills 1  restarts 3 (last: LOST_MESSAGE in counts/1)');
    const fresh = progressLine({ elapsedMs: 0, counters: { sourceRecords: 0, recordsToSinks: 0, kills: 0 }, job: null }, new Map());
    expect(fresh).toMatch(/restarts 0$/);
    // A deployed job's functions count for themselves: the line leaves out what it cannot see.
    expect(progressLine({ elapsedMs: 1000, counters: null, job }, new Map())).toBe('1.0 s  checkpoints 0 (last -)  restarts 3 (last: LOST_MESSAGE in counts/1)');
  });
});
