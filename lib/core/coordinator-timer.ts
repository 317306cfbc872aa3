/**
 * The coordinator's schedule (DESIGN §5.7). EventBridge fires at most once a minute and FIFO
 * queues have no per-message delay, so sub-minute ticks come from a chain of delayed
 * messages on a standard queue: each timer tick sends the next one. The job item holds the
 * live chain's token; a message with another token belongs to a dead or duplicate chain and
 * is dropped, so at most one chain survives. The EventBridge heartbeat ticks too, and
 * starts a new chain when the live one has gone quiet.
 */
import type { TimerState } from './manifest.js';

/** SQS's largest DelaySeconds. */
export const MAX_DELAY_SECONDS = 900;
/** EventBridge's smallest rate. */
export const HEARTBEAT_MS = 60_000;

export type TimerFiring = { readonly kind: 'timer'; readonly token: number } | { readonly kind: 'heartbeat' };

export interface TimerDecision {
  /** Run a coordinator tick. */
  readonly tick: boolean;
  /** Move the chain to this token (conditional on the current one) and send a message for it. */
  readonly arm: { readonly token: number; readonly delaySeconds: number } | null;
}

/** Tick period: the checkpoint interval, between one second and the heartbeat. */
export function timerPeriodMs(interval: number | null): number {
  return Math.min(HEARTBEAT_MS, Math.max(1000, interval ?? 10_000));
}

export function decideTimer(firing: TimerFiring, timer: TimerState, now: number, periodMs: number): TimerDecision {
  const delaySeconds = Math.min(MAX_DELAY_SECONDS, Math.max(1, Math.round(periodMs / 1000)));
  const next = { token: timer.token + 1, delaySeconds };
  if (firing.kind === 'timer') {
    if (firing.token === timer.token) return { tick: true, arm: next };
    // The redelivery of the message that moved the chain to the current token, long after it
    // fired: that firing moved the token but its next message was never sent (the send
    // failed), or the chain would have moved on. Re-arm now rather than wait for the heartbeat.
    // A duplicate delivered while the chain is alive comes early and is dropped.
    const orphaned = firing.token === timer.token - 1 && timer.firedAt !== null && now - timer.firedAt > 2 * periodMs;
    return orphaned ? { tick: true, arm: next } : { tick: false, arm: null };
  }
  // Heartbeat: a chain is needed only below the heartbeat's own rate; restart it when it
  // has not fired for three periods (a lost message, a crashed tick).
  const needed = periodMs < HEARTBEAT_MS;
  const quiet = timer.firedAt === null || now - timer.firedAt > 3 * periodMs;
  return { tick: true, arm: needed && quiet ? next : null };
}
