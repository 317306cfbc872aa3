import { describe, expect, it } from 'vitest';
import { InvocationRetryStrategy } from '../../lib/adapters/aws/retry-strategy.js';

const throttled = { errorType: 'THROTTLING' } as const;
const transient = { errorType: 'TRANSIENT' } as const;

describe('InvocationRetryStrategy', () => {
  it('retries throttling and transient errors with jittered backoff that doubles up to its cap', async () => {
    const strategy = new InvocationRetryStrategy(5, { transientBaseMs: 10, throttlingBaseMs: 40, maxDelayMs: 100 }, () => 0.999);
    let token = await strategy.acquireInitialRetryToken();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      token = await strategy.refreshRetryTokenForRetry(token, throttled);
      delays.push(token.getRetryDelay());
    }
    expect(delays).toEqual([39, 79, 99, 99]);
    const first = await strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(), transient);
    expect(first.getRetryDelay()).toBe(9);
  });

  it('gives up after maxAttempts attempts and never retries a client error or a plain server error', async () => {
    const strategy = new InvocationRetryStrategy(3);
    let token = await strategy.acquireInitialRetryToken();
    token = await strategy.refreshRetryTokenForRetry(token, transient);
    token = await strategy.refreshRetryTokenForRetry(token, transient);
    await expect(strategy.refreshRetryTokenForRetry(token, transient)).rejects.toThrow('attempts exhausted');
    const fresh = await strategy.acquireInitialRetryToken();
    await expect(strategy.refreshRetryTokenForRetry(fresh, { errorType: 'CLIENT_ERROR' })).rejects.toThrow('not retryable');
    await expect(strategy.refreshRetryTokenForRetry(fresh, { errorType: 'SERVER_ERROR' })).rejects.toThrow('not retryable');
  });

  it('stops retrying when the budget is spent, and successes refill it', async () => {
    const strategy = new InvocationRetryStrategy(2, undefined, () => 0);
    for (let i = 0; i < 100; i++) await strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(), transient);
    await expect(strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(), transient)).rejects.toThrow('budget');
    for (let i = 0; i < 5; i++) strategy.recordSuccess(await strategy.acquireInitialRetryToken());
    await expect(strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(), transient)).resolves.toBeDefined();
  });

  it('waits at least as long as a Retry-After hint, within bounds', async () => {
    const strategy = new InvocationRetryStrategy(3, undefined, () => 0);
    const token = await strategy.refreshRetryTokenForRetry(await strategy.acquireInitialRetryToken(), { ...throttled, retryAfterHint: new Date(Date.now() + 3_000) });
    expect(token.getRetryDelay()).toBeGreaterThan(2_000);
    expect(token.getRetryDelay()).toBeLessThanOrEqual(3_000);
  });
});
