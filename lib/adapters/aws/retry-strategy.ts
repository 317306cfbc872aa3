/**
 * How the SDK retries a call inside one invocation: a few attempts with short, fully
 * jittered exponential backoff, and a per-client retry budget.
 *
 * Why not the SDK's standard strategy: its delays (1 s base after a throttle, then 2 s, …)
 * suit a long-lived client, but in a Lambda function every millisecond of backoff is billed
 * and holds the whole FIFO message group behind the invocation. Tidemark retries whole
 * batches itself (a failed batch comes back after the queue's visibility timeout, and every
 * step is idempotent), so an SDK retry only has to ride out a blip; a real outage is left to
 * the batch-level retry, which backs off by far more. What must hold:
 *   - only what the retry middleware classifies as throttling or transient is retried
 *     (clients.ts marks the extra codes `isTransient` accepts);
 *   - the number of attempts is bounded (`maxAttempts`, the first one included);
 *   - retries draw from a budget that successes refill, so a client facing a wall of
 *     errors stops retrying instead of multiplying the load (the token bucket of the
 *     SDK's classic standard mode: 500 tokens, 5 per retry, 1 back per success).
 */
import { RetryableError } from '../../core/errors.js';

/**
 * How the strategy tells the SDK not to retry. The SDK's retry middleware catches it and
 * throws the call's own last error instead (which the adapters translate), so this never
 * reaches the runtime; it is of the retryable family because the call it stands for is —
 * a later batch-level retry is what comes next either way.
 */
export class NoRetryError extends RetryableError {
  readonly code = 'NO_RETRY';
  constructor(readonly why: 'not retryable' | 'attempts exhausted' | 'retry budget spent') {
    super(`no retry: ${why}`);
  }
}

/** The parts of the SDK's retry interfaces (`@smithy/types`) this strategy uses. */
interface RetryToken {
  getRetryCount(): number;
  getRetryDelay(): number;
}
interface RetryErrorInfo {
  readonly errorType: 'THROTTLING' | 'TRANSIENT' | 'SERVER_ERROR' | 'CLIENT_ERROR';
  readonly retryAfterHint?: Date;
}

export interface RetryBackoff {
  /** Base delay after a transient error (5xx, reset connection). @default 25 ms */
  readonly transientBaseMs: number;
  /** Base delay after a throttling error. @default 100 ms */
  readonly throttlingBaseMs: number;
  /** No single wait is longer. @default 1000 ms */
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY_BACKOFF: RetryBackoff = { transientBaseMs: 25, throttlingBaseMs: 100, maxDelayMs: 1000 };

const BUDGET = 500;
const RETRY_COST = 5;
const SUCCESS_REFUND = 1;

class AttemptToken implements RetryToken {
  constructor(
    private readonly retries: number,
    private readonly delay: number,
    readonly cost: number,
  ) {}
  getRetryCount(): number {
    return this.retries;
  }
  getRetryDelay(): number {
    return this.delay;
  }
}

export class InvocationRetryStrategy {
  readonly mode = 'standard';
  private budget = BUDGET;

  /** @param random a number in [0, 1) per call: the jitter */
  constructor(
    private readonly maxAttempts: number,
    private readonly backoff: RetryBackoff = DEFAULT_RETRY_BACKOFF,
    private readonly random: () => number = Math.random,
  ) {}

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return new AttemptToken(0, 0, 0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retries = token.getRetryCount();
    const retryable = info.errorType === 'THROTTLING' || info.errorType === 'TRANSIENT';
    if (!retryable || retries + 1 >= this.maxAttempts || this.budget < RETRY_COST) {
      throw new NoRetryError(!retryable ? 'not retryable' : retries + 1 >= this.maxAttempts ? 'attempts exhausted' : 'retry budget spent');
    }
    this.budget -= RETRY_COST;
    return new AttemptToken(retries + 1, this.delayBefore(retries, info), RETRY_COST);
  }

  recordSuccess(token: RetryToken): void {
    const cost = (token as AttemptToken).cost ?? 0;
    this.budget = Math.min(BUDGET, this.budget + (cost > 0 ? cost : SUCCESS_REFUND));
  }

  /** Full jitter: a uniform wait up to base · 2^retries, capped; at least a server's `Retry-After`. */
  private delayBefore(retries: number, info: RetryErrorInfo): number {
    const base = info.errorType === 'THROTTLING' ? this.backoff.throttlingBaseMs : this.backoff.transientBaseMs;
    const ceiling = Math.min(this.backoff.maxDelayMs, base * 2 ** retries);
    const jittered = Math.floor(this.random() * ceiling);
    const hinted = info.retryAfterHint ? info.retryAfterHint.getTime() - Date.now() : 0;
    return Math.max(jittered, Math.min(hinted, this.backoff.maxDelayMs * 5));
  }
}
