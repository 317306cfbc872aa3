/**
 * Restart strategies (Flink's fixed-delay, failure-rate, exponential-delay, none): given the
 * job's failover history, decide whether a new failure restarts the job and when.
 * Pure: `jitterSample` in [0, 1) comes from the caller.
 */
import type { RestartStrategy } from './config.js';

export type RestartDecision =
  | { readonly restart: true; readonly at: number; readonly delay: number }
  | { readonly restart: false; readonly reason: string };

/**
 * @param history times of earlier failovers, oldest first (the new failure is not in it)
 * @param now time of the new failure
 */
export function decideRestart(
  strategy: RestartStrategy,
  history: readonly number[],
  now: number,
  jitterSample = 0.5,
): RestartDecision {
  switch (strategy.type) {
    case 'none':
      return { restart: false, reason: 'restart strategy is none' };
    case 'fixed-delay': {
      if (history.length >= strategy.attempts) {
        return { restart: false, reason: `fixed-delay: ${strategy.attempts} restart attempts used` };
      }
      return { restart: true, at: now + strategy.delay, delay: strategy.delay };
    }
    case 'failure-rate': {
      const since = now - strategy.failureRateInterval;
      const recent = history.filter((t) => t > since).length + 1;
      if (recent > strategy.maxFailuresPerInterval) {
        return {
          restart: false,
          reason: `failure-rate: ${recent} failures within ${strategy.failureRateInterval} ms (max ${strategy.maxFailuresPerInterval})`,
        };
      }
      return { restart: true, at: now + strategy.delay, delay: strategy.delay };
    }
    case 'exponential-delay': {
      // Failures closer together than the reset threshold form one streak; the backoff grows
      // with the streak and starts over after a quiet period (Flink's reset-backoff-threshold).
      let streak = 0;
      let later = now;
      for (let i = history.length - 1; i >= 0; i--) {
        if (later - history[i]! >= strategy.resetBackoffThreshold) break;
        streak++;
        later = history[i]!;
      }
      if (history.length >= strategy.attempts) {
        return { restart: false, reason: `exponential-delay: ${strategy.attempts} restart attempts used` };
      }
      const base = Math.min(strategy.maxBackoff, strategy.initialBackoff * strategy.backoffMultiplier ** streak);
      const jitter = base * strategy.jitterFactor * (2 * jitterSample - 1);
      const delay = Math.max(0, Math.round(Math.min(strategy.maxBackoff, base + jitter)));
      return { restart: true, at: now + delay, delay };
    }
  }
}
