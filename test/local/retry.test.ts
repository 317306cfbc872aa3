/**
 * The CLI's own calls retry transient failures with backoff, within a bounded total time,
 * and then say what kept failing; anything else fails at once. A manual clock: no waiting.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, TransientStorageError } from '../../lib/core/errors.js';
import { GaveUpError, patiently, type Patience } from '../../local/retry.js';

function manualTime(): Patience & { now: () => number; slept: number[] } {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms) => {
      slept.push(ms);
      t += ms;
    },
    random: () => 1,
    slept,
  };
}

const throttled = () => new TransientStorageError('dynamodb GetItem', { cause: Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }) });

describe('patiently', () => {
  it('retries transient failures with growing delays until the call succeeds', async () => {
    const time = manualTime();
    let calls = 0;
    const value = await patiently('reading the job item', async () => (++calls < 4 ? Promise.reject(throttled()) : 'item'), time);
    expect(value).toBe('item');
    expect(calls).toBe(4);
    expect(time.slept).toEqual([200, 400, 800]);
  });

  it('gives up after the total time, naming the step and what kept failing', async () => {
    const time = manualTime();
    let calls = 0;
    const error = await patiently('reading the job item', async () => {
      calls++;
      throw throttled();
    }, { ...time, totalMs: 10_000, maxDelayMs: 2_000 }).catch((e) => e);
    expect(error).toBeInstanceOf(GaveUpError);
    expect(error.message).toMatch(/^reading the job item: dynamodb GetItem failed transiently \(ThrottlingException: Rate exceeded\), still failing after \d+ attempts in \d+\.\d s$/);
    expect(error.cause).toBeInstanceOf(TransientStorageError);
    expect(time.now()).toBeLessThanOrEqual(10_000);
    expect(calls).toBe(error.attempts);
    expect(calls).toBeGreaterThan(4);
  });

  it('does not retry what is not transient', async () => {
    const time = manualTime();
    let calls = 0;
    const refused = new ConfigError('job', 'bad');
    await expect(patiently('x', async () => {
      calls++;
      throw refused;
    }, time)).rejects.toBe(refused);
    expect(calls).toBe(1);
    expect(time.slept).toEqual([]);
  });
});
