/** `tidemark run` on the emulator with lost responses alone, at 10 %: still exactly once, no failover. */
import { describe, expect, it } from 'vitest';
import { runKeyedJob } from './fixtures/run-keyed-job.js';

describe('tidemark run with lost responses at 10 %', () => {
  it('finishes exactly once without a failover', async () => {
    const { summary, transcript } = await runKeyedJob('wire-lost', { rates: { lost: 0.1 }, seed: 12 });
    expect(summary.status, transcript).toBe('FINISHED');
    expect(summary.exactlyOnce, transcript).toMatchObject({ ok: true });
    expect(summary.restarts, JSON.stringify(summary.lastFailure)).toBe(0);
    expect(summary.wireFaults!.injected.dynamodb.lost, JSON.stringify(summary.wireFaults)).toBeGreaterThan(10);
  });
});
