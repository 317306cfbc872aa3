/**
 * The barrier handler (DESIGN §5.3): barrier alignment as one explicit state machine, after
 * Flink's BarrierHandlerState: WAITING_FOR_FIRST_BARRIER → COLLECTING_BARRIERS → (barrier on
 * every input) → snapshot → WAITING. `barrierHandler` takes every event a channel delivers:
 *
 * - a barrier: collected; the last missing one completes the alignment (snapshot, forward,
 *   release the buffer). A newer barrier on any channel cancels the current alignment (its
 *   checkpoint can no longer complete here: the coordinator aborted it or a source never got
 *   the trigger); the buffer is released and alignment starts over for the newer
 *   checkpoint, as Flink does. Cancellation only ever arrives this way: the coordinator's
 *   abort and timeout never reach a subtask, so there is no abort or timeout event here.
 * - data (records, a watermark) and end of input: passed on, or buffered while the channel
 *   is blocked. End of input neither completes nor cancels an alignment: an ended channel
 *   keeps delivering barriers (a finished source still answers every trigger), so counting
 *   it as aligned would snapshot before its barrier and then again at it.
 *
 * In exactly-once mode a channel that delivered barrier N is blocked: what it sends next
 * (its barrier N+1 too) is buffered, in working state, until N has come on every input.
 * At-least-once never blocks.
 *
 * Pure: the caller persists the state and carries out the decision.
 */
import type { CheckpointMode } from './config.js';

export type AlignmentState =
  | { readonly phase: 'waiting'; readonly lastCheckpoint: number }
  | {
      readonly phase: 'collecting';
      readonly lastCheckpoint: number;
      readonly checkpoint: number;
      /** Channels that delivered the barrier, in arrival order. */
      readonly received: readonly string[];
      /** Clock reading at the first barrier; only reported, never affects outputs. */
      readonly startedAt: number;
    };

export const INITIAL_ALIGNMENT: AlignmentState = { phase: 'waiting', lastCheckpoint: 0 };

export type AlignmentDecision =
  /** Barrier of a checkpoint already snapshotted or abandoned here: nothing to do. */
  | { readonly kind: 'ignore' }
  /** Keep collecting; in exactly-once mode `block` names the channel to buffer. */
  | { readonly kind: 'collect'; readonly block: boolean; readonly cancelled?: number }
  /** All inputs delivered the barrier: snapshot now, forward the barrier, release the buffer. */
  | { readonly kind: 'snapshot'; readonly checkpoint: number; readonly alignmentMs: number; readonly cancelled?: number };

export interface BarrierArrival {
  readonly channel: string;
  readonly checkpoint: number;
  /** Every input channel of the subtask. */
  readonly inputs: readonly string[];
  readonly mode: CheckpointMode;
  readonly now: number;
}

export function onBarrier(
  state: AlignmentState,
  arrival: BarrierArrival,
): { state: AlignmentState; decision: AlignmentDecision } {
  const { channel, checkpoint, inputs, mode, now } = arrival;
  if (checkpoint <= state.lastCheckpoint) return { state, decision: { kind: 'ignore' } };

  let received: readonly string[] = [];
  let startedAt = now;
  let cancelled: number | undefined;
  if (state.phase === 'collecting') {
    if (checkpoint < state.checkpoint) return { state, decision: { kind: 'ignore' } };
    if (checkpoint === state.checkpoint) {
      if (state.received.includes(channel)) return { state, decision: { kind: 'ignore' } };
      received = state.received;
      startedAt = state.startedAt;
    } else {
      cancelled = state.checkpoint;
    }
  }
  received = [...received, channel];
  const cancel = cancelled === undefined ? {} : { cancelled };
  if (inputs.every((c) => received.includes(c))) {
    return {
      state: { phase: 'waiting', lastCheckpoint: checkpoint },
      decision: { kind: 'snapshot', checkpoint, alignmentMs: Math.max(0, now - startedAt), ...cancel },
    };
  }
  return {
    state: { phase: 'collecting', lastCheckpoint: state.lastCheckpoint, checkpoint, received, startedAt },
    decision: { kind: 'collect', block: mode === 'exactly-once', ...cancel },
  };
}

/** Whether records from `channel` must be buffered right now. */
export function isBlocked(state: AlignmentState, channel: string, mode: CheckpointMode): boolean {
  return mode === 'exactly-once' && state.phase === 'collecting' && state.received.includes(channel);
}

export type BarrierHandlerEvent =
  | { readonly kind: 'barrier'; readonly channel: string; readonly checkpoint: number; readonly now: number }
  /** Records or a watermark. */
  | { readonly kind: 'data'; readonly channel: string }
  | { readonly kind: 'end'; readonly channel: string };

export type BarrierHandlerDecision =
  /** Process the event now. */
  | { readonly kind: 'pass' }
  /** The channel is blocked: keep the event for after the alignment. */
  | { readonly kind: 'buffer' }
  /** A barrier was handled: the alignment's decision, and whether to release the buffer
   *  (the alignment completed or was cancelled). */
  | { readonly kind: 'barrier'; readonly alignment: AlignmentDecision; readonly release: boolean };

export interface BarrierHandlerContext {
  /** Every input channel of the subtask. */
  readonly inputs: readonly string[];
  readonly mode: CheckpointMode;
}

/** The one transition function of the barrier handler. */
export function barrierHandler(
  state: AlignmentState,
  event: BarrierHandlerEvent,
  context: BarrierHandlerContext,
): { state: AlignmentState; decision: BarrierHandlerDecision } {
  if (isBlocked(state, event.channel, context.mode)) return { state, decision: { kind: 'buffer' } };
  if (event.kind !== 'barrier') return { state, decision: { kind: 'pass' } };
  const next = onBarrier(state, { channel: event.channel, checkpoint: event.checkpoint, now: event.now, ...context });
  const d = next.decision;
  const release = d.kind === 'snapshot' || (d.kind === 'collect' && d.cancelled !== undefined);
  return { state: next.state, decision: { kind: 'barrier', alignment: d, release } };
}
