/**
 * The orders example end to end on the emulator, as a user runs it
 * (`tidemark run examples/orders.ts --kill-rate 0.05`), plus one forced restore: orders from
 * a Kinesis stream (the emulator's) and payments from the log source, interval-joined, timed out with timers to
 * a side output, priced from broadcast state, written as Parquet and CSV — every sink equal
 * to the sequential evaluation over the same files.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../../local/run-job.js';
import { useEmulator } from '../support/emulator-world.js';

describe('examples/orders.ts on the emulator', () => {
  it('commits exactly the sequential result through kills and a restore', async () => {
    useEmulator();
    const lines: string[] = [];
    const summary = await runJob({
      jobFile: 'examples/orders.ts',
      killRate: 0.05,
      restoreAt: 1,
      memory: false,
      verify: true,
      json: false,
      out: (line) => lines.push(line),
      progress: null,
    });
    expect(summary.status, lines.join('\n')).toBe('FINISHED');
    expect(summary.exactlyOnce).toMatchObject({ ok: true, differences: [] });
    expect(summary.restores).toBe(1);
    // 2400 orders, 2097 of them paid within 30 minutes (make-orders.mjs): the rest time out.
    expect(summary.sinks['paid-orders']!.records).toBe(2097);
    expect(summary.sinks['payment-delays']!.records).toBe(2097);
    expect(summary.sinks['unpaid-orders']!.records).toBe(303);
  });
});
