/**
 * The bar, at a rate that keeps the suite quick: a keyed, checkpointed job run by
 * `tidemark run` on the emulator with every kind of wire fault — lost responses included —
 * plus killed invocations and a forced restore must finish exactly once, and no lost
 * response may cause a failover (restarts stays 0: the forced restore is not a failover).
 * Lost responses alone at a high rate: lost-only-run.test.ts (a job module is loaded once
 * per process, so each run of the fixture under its own name needs its own test file).
 */
import { describe, expect, it } from 'vitest';
import { runKeyedJob as run } from './fixtures/run-keyed-job.js';

describe('tidemark run with lost responses on the wire', () => {
  it('every kind of wire fault, kills and a forced restore: exactly once, no failover', async () => {
    const { summary, transcript } = await run(
      'wire-all',
      { rates: { throttle: 0.02, '5xx': 0.02, latency: 0.02, lost: 0.02 }, seed: 11 },
      { killRate: 0.05, restoreAt: 2 },
    );
    expect(summary.status, transcript).toBe('FINISHED');
    expect(summary.exactlyOnce, transcript).toMatchObject({ ok: true });
    expect(summary.restarts, JSON.stringify(summary.lastFailure)).toBe(0);
    const lost = summary.wireFaults!.injected;
    expect(lost.sqs.lost + lost.s3.lost + lost.dynamodb.lost).toBeGreaterThan(10);
  });
});
