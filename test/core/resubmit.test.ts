/** Running a job whose name the endpoint holds already (core/resubmit.ts). */
import { describe, expect, it } from 'vitest';
import { generation, jobName } from '../../lib/core/ids.js';
import { initialJobRecord, type JobRecord, type JobStatus } from '../../lib/core/manifest.js';
import { freshJobRecord, resubmitDecision } from '../../lib/core/resubmit.js';

const old: JobRecord = { ...initialJobRecord(jobName('wordcount'), generation(3)), status: 'FINISHED', nextCheckpointId: 12, version: 40, timer: { token: 9, firedAt: 5 } };
const at = (fresh: boolean) => ({ where: 'AWS_ENDPOINT_URL=http://localhost:4566', jobFile: 'examples/wordcount.ts', fresh, now: 1000 });

describe('resubmitDecision', () => {
  it('runs a job the endpoint does not have', () => {
    expect(resubmitDecision(null, at(false))).toEqual({ kind: 'new' });
    expect(resubmitDecision(null, at(true))).toEqual({ kind: 'new' });
  });

  it('refuses a job that exists, naming its status, generation and the choices', () => {
    expect(resubmitDecision(old, at(false))).toEqual({
      kind: 'refuse',
      reason: 'job wordcount already exists on AWS_ENDPOINT_URL=http://localhost:4566 (status FINISHED, generation 3): restore it with `tidemark restore examples/wordcount.ts --from latest`, or start over with --fresh',
    });
    expect(resubmitDecision({ ...old, status: 'RUNNING' }, at(false))).toEqual({
      kind: 'refuse',
      reason:
        'job wordcount already exists on AWS_ENDPOINT_URL=http://localhost:4566 (status RUNNING, generation 3): restore it with `tidemark restore examples/wordcount.ts --from latest`, or cancel it (`tidemark cancel examples/wordcount.ts`) and start over with --fresh',
    });
  });

  it.each<JobStatus>(['RUNNING', 'RESTORING'])('refuses --fresh while the job is %s', (status) => {
    expect(resubmitDecision({ ...old, status }, at(true))).toEqual({
      kind: 'refuse',
      reason: `job wordcount is ${status} on AWS_ENDPOINT_URL=http://localhost:4566 (generation 3): cancel it (\`tidemark cancel examples/wordcount.ts\`) or stop it (\`tidemark stop examples/wordcount.ts\`) before starting over with --fresh`,
    });
  });

  it.each<JobStatus>(['FINISHED', 'FAILED', 'STOPPED', 'CANCELED'])('starts a %s job over with --fresh', (status) => {
    const d = resubmitDecision({ ...old, status }, at(true));
    expect(d.kind).toBe('start-over');
  });

  it('starts over past the old job: a newer generation, the next checkpoint id, a new timer chain', () => {
    const next = freshJobRecord(old, 1000);
    expect(next).toMatchObject({
      job: 'wordcount',
      status: 'RESTORING',
      gen: 4,
      lineage: { gen: 4, base: null },
      nextCheckpointId: 12,
      timer: { token: 10, firedAt: null },
      restarts: 0,
      failures: [],
      restore: { gen: 4, from: { kind: 'empty' }, startedAt: 1000 },
    });
  });
});
