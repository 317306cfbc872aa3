import { describe, expect, it } from 'vitest';
import { DEFAULT_RESTART, restartStrategy } from '../../lib/core/config.js';
import { decideRestart } from '../../lib/core/restart-strategy.js';

describe('restart strategies', () => {
  it('none never restarts', () => {
    expect(decideRestart({ type: 'none' }, [], 0)).toMatchObject({ restart: false });
  });

  it('fixed-delay restarts after the delay until attempts are used', () => {
    const s = { type: 'fixed-delay', attempts: 2, delay: 500 } as const;
    expect(decideRestart(s, [], 1000)).toEqual({ restart: true, at: 1500, delay: 500 });
    expect(decideRestart(s, [10], 1000)).toEqual({ restart: true, at: 1500, delay: 500 });
    expect(decideRestart(s, [10, 20], 1000)).toMatchObject({ restart: false });
  });

  it('failure-rate counts failures within the interval only', () => {
    const s = { type: 'failure-rate', maxFailuresPerInterval: 2, failureRateInterval: 60_000, delay: 100 } as const;
    expect(decideRestart(s, [0], 100_000)).toMatchObject({ restart: true, at: 100_100 });
    expect(decideRestart(s, [50_000], 100_000)).toMatchObject({ restart: true });
    expect(decideRestart(s, [50_000, 90_000], 100_000)).toMatchObject({ restart: false });
  });

  it('exponential-delay grows with the failure streak, is capped, and resets after a quiet period', () => {
    const s = { ...DEFAULT_RESTART, jitterFactor: 0 } as Extract<typeof DEFAULT_RESTART, { type: 'exponential-delay' }>;
    const delays = [[], [0], [0, 1], [0, 1, 2]].map((h) => (decideRestart(s, h, 10) as { delay: number }).delay);
    expect(delays).toEqual([1000, 1500, 2250, 3375]);
    const many = Array.from({ length: 40 }, (_, i) => i);
    expect(decideRestart(s, many, 50)).toMatchObject({ delay: 60_000 });
    expect(decideRestart(s, [0, 1, 2], 2 * 60 * 60_000)).toMatchObject({ delay: 1000 });
  });

  it('exponential-delay jitter stays within the factor', () => {
    const s = restartStrategy({ type: 'exponential-delay', initialBackoff: 1000, maxBackoff: 10_000, backoffMultiplier: 2, resetBackoffThreshold: 1e9, jitterFactor: 0.1, attempts: 5 });
    expect((decideRestart(s, [], 0, 0) as { delay: number }).delay).toBe(900);
    expect((decideRestart(s, [], 0, 0.999999) as { delay: number }).delay).toBe(1100);
  });
});
