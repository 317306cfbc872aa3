/**
 * `tidemark run --wire-faults` on the emulator: every AWS call of the run — provisioning, the
 * job's functions, the run's own polling and reading — is throttled, fails with 5xx and is
 * delayed, at rates where some calls fail all of the SDK's attempts. The run must neither
 * stop on such a call nor lie: it finishes, the committed output equals the sequential
 * evaluation, and the summary counts what was injected. (Lost responses are left out here:
 * they expose protocol bugs that are fixed separately; test/adapters covers them.)
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../../local/run-job.js';
import { uniqueJobName, useEmulator } from '../support/emulator-world.js';

describe('tidemark run with faults on the wire', () => {
  it('finishes exactly once through throttling, 5xx and latency, and reports what was injected', async () => {
    useEmulator();
    process.env.TIDEMARK_TEST_JOB = uniqueJobName('wire');
    const lines: string[] = [];
    const log: string[] = [];
    const summary = await runJob({
      jobFile: 'test/local/fixtures/print-job.ts',
      killRate: 0,
      wireFaults: { rates: { throttle: 0.08, '5xx': 0.08, latency: 0.1 }, seed: 5, maxLatencyMs: 50 },
      memory: false,
      verify: true,
      json: true,
      out: (line) => lines.push(line),
      log: (line) => log.push(line),
      progress: null,
    });
    expect(summary.status, [...lines, ...log].join('\n')).toBe('FINISHED');
    expect(summary.exactlyOnce).toMatchObject({ ok: true });
    expect(summary.sinks.out!.records).toBe(40);
    const injected = summary.wireFaults!.injected;
    for (const service of ['sqs', 's3', 'dynamodb'] as const) {
      expect(injected[service].throttle + injected[service]['5xx'], service).toBeGreaterThan(0);
      expect(injected[service].lost).toBe(0);
    }
    expect(summary.wireFaults).toMatchObject({ seed: 5, rates: { throttle: 0.08, '5xx': 0.08, latency: 0.1 } });
    // The same job again on the same endpoint: refused, never reported as a second run.
    await expect(
      runJob({ jobFile: 'test/local/fixtures/print-job.ts', killRate: 0, memory: false, verify: true, json: true, out: () => {}, log: () => {}, progress: null }),
    ).rejects.toThrow(/^job wire-\S+ already exists on AWS_ENDPOINT_URL=\S+ \(status FINISHED, generation 1\): restore it with `tidemark restore test\/local\/fixtures\/print-job.ts --from latest`, or start over with --fresh$/);
  });
});
