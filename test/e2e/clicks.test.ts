/**
 * The clicks example end to end on the emulator, as a user runs it
 * (`tidemark run examples/clicks.ts --kill-rate 0.05`), plus one forced restore: the S3 sink's
 * committed objects must equal the sequential evaluation over the same file, and the three
 * malformed lines must be dead-lettered while the job carries on.
 */
import { describe, expect, it } from 'vitest';
import { runJob } from '../../local/run-job.js';
import { useEmulator } from '../support/emulator-world.js';

describe('examples/clicks.ts on the emulator', () => {
  it('commits exactly the sequential result through kills and a restore, and dead-letters the bad lines', async () => {
    useEmulator();
    const lines: string[] = [];
    const summary = await runJob({
      jobFile: 'examples/clicks.ts',
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
    expect(summary.deadLetters.count).toBe(3);
    expect(summary.sinks['minute-counts']!.records).toBeGreaterThan(1000);
    expect(summary.sinks['late-clicks']!.records).toBeGreaterThan(0);
    expect(summary.sinks['session-counts']!.records).toBeGreaterThan(10);
    expect(lines.some((l) => l.startsWith('input clicks: 3003 lines'))).toBe(true);
  });
});
