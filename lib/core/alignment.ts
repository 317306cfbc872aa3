/**
 * Barrier alignment (DESIGN §5.3) as explicit states, after Flink's barrier handlers:
 * WAITING_FOR_FIRST_BARRIER → COLLECTING_BARRIERS → (all inputs) → snapshot → WAITING.
 *
 * In exactly-once mode a channel that delivered barrier N is blocked: what it sends next is
 * buffered (in working state) until N has come on every input. At-least-once never blocks.
 * A newer barrier on any channel cancels the current alignment (its checkpoint can no
 * longer complete here: the coordinator aborted it or a source never got the trigger); the
 * buffer is released and alignment starts over for the newer checkpoint, as Flink does.
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
