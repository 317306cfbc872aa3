/**
 * The operator function of a stack deployed with fault injection: at its kill rate an
 * invocation ends the whole process by SIGKILL, as a crash does (no response, no cleanup),
 * and without the setting it never does. Run in a child process, since dying is the point.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createOperatorHandler } from '../../functions/operator.js';
import { collect, generator, job } from '../../lib/api/index.js';
import { ManualClock, memoryPorts } from '../../lib/adapters/memory/index.js';

const FIXTURE = 'test/functions/fixtures/killed-operator.ts';

function runFixture(rate: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, rate], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.once('close', (code, signal) => resolve({ code, signal, stdout }));
  });
}

describe('an operator function with TIDEMARK_KILL_RATE', () => {
  it('dies by SIGKILL in the middle of an invocation', async () => {
    const { code, signal, stdout } = await runFixture('0.9');
    expect(signal).toBe('SIGKILL');
    expect(code).toBeNull();
    expect(stdout).not.toContain('no invocation died');
  }, 60_000);

  it('never dies at rate 0', async () => {
    const { code, signal, stdout } = await runFixture('0');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    expect(stdout).toContain('invocation 199 survived');
  }, 60_000);

  it('refuses a rate that is not one at cold start, naming the variable', async () => {
    const j = job('bad-rate', {});
    j.source('src', generator({ count: 1, make: (i) => i })).sink('out', collect());
    const handler = createOperatorHandler(j.build(), { ports: memoryPorts(new ManualClock(0)), env: { TIDEMARK_STAGE: 'src', TIDEMARK_KILL_RATE: 'often' } });
    await expect(handler({ Records: [] })).rejects.toThrow(/TIDEMARK_KILL_RATE.*must be a number from 0 up to \(not including\) 1, got "often"/);
  });
});
