/**
 * The data path's decision for one envelope (DESIGN §4–5): observed facts (the subtask's
 * inputs and a read-only view of its protocol state) + the envelope → what to do, as data.
 * The runtime (lib/runtime/subtask-invocation.ts) reads the facts, calls the decider and
 * carries the decision out: it writes the protocol state the decision names and runs the
 * operator chain, the router and the sinks. Read → decide → execute, as the coordinator.
 *
 * In order:
 * 1. generation fencing: an envelope of an older generation is dropped; one of a newer
 *    generation means this subtask was not restored yet (retryable);
 * 2. control envelopes (trigger, poll, commit) go to the source or the sinks;
 * 3. a channel envelope must come on one of the subtask's input channels;
 * 4. dedup by sequence: at or below the channel's last applied seq it is dropped, beyond
 *    the next one a message was lost (terminal);
 * 5. the barrier handler (alignment.ts) decides whether it is buffered, and what a barrier
 *    does; watermarks combine (watermarks.ts); the last channel to end finishes the input.
 * An entry released from the alignment buffer was admitted when it was buffered and goes
 * through step 5 only.
 *
 * Pure: no clock (`now` is a fact), no I/O; the view is only read.
 */
import { barrierHandler, INITIAL_ALIGNMENT, type AlignmentState, type BarrierHandlerEvent } from './alignment.js';
import type { CheckpointMode } from './config.js';
import type { ChannelEnvelope, CommitEnvelope, Envelope, PollEnvelope, RecordsEnvelope, TriggerEnvelope } from './wire/envelope.js';
import { InvariantError, LostMessageError, MalformedEnvelopeError, NotYetRestoredError, type TidemarkError } from './errors.js';
import { channelId, subtaskKey, type ChannelId, type SubtaskRef } from './ids.js';
import { stateKeys } from './wire/state-keys.js';
import { partNames } from './wire/storage-keys.js';
import { inputChannels, type Topology } from './topology.js';
import { MAX_WATERMARK, MIN_WATERMARK, onInputWatermark, type ChannelWatermark, type WatermarkStep, type WatermarkView } from './watermarks.js';

/** The subtask's input channels: fixed for an invocation. */
export interface SubtaskInputs {
  readonly ref: SubtaskRef;
  /** In topology order. */
  readonly channels: readonly ChannelId[];
  /** Channel → the upstream subtask (`stage.index`) whose watermark it carries. */
  readonly upstreamOf: ReadonlyMap<string, string>;
  /** The distinct upstream subtasks. */
  readonly upstreams: readonly string[];
}

export function subtaskInputs(topology: Topology, ref: SubtaskRef): SubtaskInputs {
  const channels = inputChannels(topology, ref);
  const upstreamOf = new Map(channels.map((c) => [c.id as string, `${c.from.stage}.${c.from.index}`]));
  return { ref, channels: channels.map((c) => c.id), upstreamOf, upstreams: [...new Set(upstreamOf.values())] };
}

/** What the decider reads of the subtask's protocol state. */
export interface ProtocolStateView extends WatermarkView {
  /** The channel's last applied seq (0: none yet). */
  lastSeq(channel: string): number;
  alignment(): AlignmentState;
  /** End of input came on the channel. */
  ended(channel: string): boolean;
  /** End of input was forwarded: every input channel ended. */
  finished(): boolean;
}

/** The protocol state as it is kept in working state (keys: state-keys.ts). */
export function protocolStateOf(get: (key: string) => unknown): ProtocolStateView {
  return {
    lastSeq: (channel) => (get(stateKeys.inSeq(channel)) as number | undefined) ?? 0,
    alignment: () => (get(stateKeys.alignment) as AlignmentState | undefined) ?? INITIAL_ALIGNMENT,
    ended: (channel) => get(stateKeys.ended(channel)) === true,
    finished: () => get(stateKeys.finished) === true,
    inputWatermark: (upstream) => get(stateKeys.inputWatermark(upstream)) as ChannelWatermark | undefined,
    watermark: () => (get(stateKeys.watermark) as number | undefined) ?? MIN_WATERMARK,
    watermarkSent: () => get(stateKeys.watermarkSent) as ChannelWatermark | undefined,
  };
}

export interface SubtaskFacts {
  readonly inputs: SubtaskInputs;
  /** The working state's generation. */
  readonly gen: number;
  readonly mode: CheckpointMode;
  /** The invocation's clock reading: only reported (alignment time), never decides. */
  readonly now: number;
  readonly state: ProtocolStateView;
}

export type ProtocolInput =
  | { readonly kind: 'envelope'; readonly env: Envelope }
  /** An entry released from the alignment buffer, in arrival order. */
  | { readonly kind: 'released'; readonly channel: ChannelId; readonly env: ChannelEnvelope };

interface OnChannel {
  readonly channel: ChannelId;
  /** The channel's new last applied seq; null for a released entry (applied when buffered). */
  readonly seq: number | null;
}

/** A barrier aligned: seal the sinks, snapshot, ack, forward the barrier on every output. */
export interface SnapshotOrder {
  readonly checkpoint: number;
  readonly alignmentMs: number;
  /** A savepoint's barrier: the snapshot is full and stays out of the subtask's chain. */
  readonly savepoint: boolean;
}

export type ChannelDecision =
  /** The channel is blocked by an alignment: append to the buffer. */
  | (OnChannel & { readonly kind: 'buffer'; readonly env: ChannelEnvelope })
  /** Run the records through the chain; `part` names their staged sink output. */
  | (OnChannel & { readonly kind: 'records'; readonly env: RecordsEnvelope; readonly part: string; readonly watermark: WatermarkStep | null })
  | (OnChannel & { readonly kind: 'watermark'; readonly part: string; readonly watermark: WatermarkStep })
  /** End of input on the channel, as the largest watermark (every window fires); `finish`:
   *  it was the last open input, so mark the subtask finished and send end of input on. */
  | (OnChannel & { readonly kind: 'end'; readonly part: string; readonly watermark: WatermarkStep; readonly finish: boolean })
  /** Persist `alignment`; then snapshot (when aligned); then release the buffer (when the
   *  alignment completed or was cancelled, by the newer checkpoint `cancelled`). */
  | (OnChannel & {
      readonly kind: 'barrier';
      readonly alignment: AlignmentState;
      readonly snapshot: SnapshotOrder | null;
      readonly release: boolean;
      readonly cancelled?: number;
      /** The processing time the barrier carries (its checkpoint's trigger time). */
      readonly pt?: number;
    });

export type SubtaskDecision =
  | { readonly kind: 'drop'; readonly reason: 'fenced' | 'duplicate' }
  /** Fail the group with this error (its class says retryable or terminal). */
  | { readonly kind: 'reject'; readonly error: TidemarkError }
  | { readonly kind: 'trigger'; readonly env: TriggerEnvelope }
  | { readonly kind: 'poll'; readonly env: PollEnvelope }
  | { readonly kind: 'commit'; readonly env: CommitEnvelope }
  | ChannelDecision;

export type SubtaskDecider = (facts: SubtaskFacts, input: ProtocolInput) => SubtaskDecision;

/** The input channel a channel envelope travels on. */
export const channelOf = (ref: SubtaskRef, env: ChannelEnvelope): ChannelId =>
  channelId({ stage: env.from.op as SubtaskRef['stage'], index: env.from.subtask }, ref);

export const decideSubtask: SubtaskDecider = (facts, input) =>
  input.kind === 'released' ? onChannel(facts, input.channel, null, input.env) : admit(facts, input.env);

/** Steps 1–4: fencing, control envelopes, the channel, dedup. */
function admit(facts: SubtaskFacts, env: Envelope): SubtaskDecision {
  const { ref } = facts.inputs;
  if (env.gen < facts.gen) return { kind: 'drop', reason: 'fenced' };
  if (env.gen > facts.gen) return { kind: 'reject', error: new NotYetRestoredError(subtaskKey(ref), facts.gen, env.gen) };
  switch (env.kind) {
    case 'trigger':
      return { kind: 'trigger', env };
    case 'poll':
      return { kind: 'poll', env };
    case 'commit':
      return { kind: 'commit', env };
  }
  const channel = channelOf(ref, env);
  if (!facts.inputs.upstreamOf.has(channel)) {
    return { kind: 'reject', error: new MalformedEnvelopeError('invalid-field', `${subtaskKey(ref)} has no input channel ${channel}`) };
  }
  const last = facts.state.lastSeq(channel);
  if (env.seq <= last) return { kind: 'drop', reason: 'duplicate' };
  if (env.seq > last + 1) return { kind: 'reject', error: new LostMessageError(channel, last + 1, env.seq) };
  return onChannel(facts, channel, env.seq, env);
}

/** Step 5: the barrier handler, then what the envelope does. */
function onChannel(facts: SubtaskFacts, channel: ChannelId, seq: number | null, env: ChannelEnvelope): ChannelDecision {
  const event: BarrierHandlerEvent =
    env.kind === 'barrier' ? { kind: 'barrier', channel, checkpoint: env.cp, now: facts.now } : { kind: env.kind === 'end' ? 'end' : 'data', channel };
  const handled = barrierHandler(facts.state.alignment(), event, { inputs: facts.inputs.channels, mode: facts.mode });
  const at = { channel, seq };
  if (handled.decision.kind === 'buffer') return { ...at, kind: 'buffer', env };
  const part = partNames.channel(channel, env.seq);
  const watermark = (wm: number, idle: boolean) =>
    onInputWatermark(facts.state, facts.inputs.upstreams, facts.inputs.upstreamOf.get(channel)!, wm, idle);
  switch (env.kind) {
    case 'records':
      return { ...at, kind: 'records', env, part, watermark: env.wm === undefined ? null : watermark(env.wm, false) };
    case 'watermark':
      return { ...at, kind: 'watermark', part, watermark: watermark(env.wm, env.idle === true) };
    case 'end': {
      const allEnded = facts.inputs.channels.every((c) => c === channel || facts.state.ended(c));
      return { ...at, kind: 'end', part, watermark: watermark(MAX_WATERMARK, false), finish: allEnded && !facts.state.finished() };
    }
    case 'barrier': {
      if (handled.decision.kind !== 'barrier') throw new InvariantError('the barrier handler passed a barrier on');
      const { alignment: a, release } = handled.decision;
      // Every barrier of a checkpoint carries the same flag; the one that completes the alignment is at hand.
      const snapshot = a.kind === 'snapshot' ? { checkpoint: a.checkpoint, alignmentMs: a.alignmentMs, savepoint: env.sp === true } : null;
      const cancelled = a.kind === 'ignore' || a.cancelled === undefined ? {} : { cancelled: a.cancelled };
      return { ...at, kind: 'barrier', alignment: handled.state, snapshot, release, ...cancelled, ...(env.pt === undefined ? {} : { pt: env.pt }) };
    }
  }
}
