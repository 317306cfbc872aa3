/**
 * Deliberately broken data-path deciders, each wrapping the real one with one exactly-once
 * mechanism switched off. The simulation must report violations with any of them
 * (test/sim/simulation.test.ts, "the harness can fail"): a harness that cannot fail proves
 * nothing. They live here, never in lib/: production code has no switch that disables a
 * mechanism, only an `OperatorRuntimeOptions.decide` to swap the decider.
 */
import { isChannelEnvelope } from '../lib/core/wire/envelope.js';
import { LostMessageError } from '../lib/core/errors.js';
import { channelOf, decideSubtask, type SubtaskDecider } from '../lib/core/subtask-protocol.js';

/** Without sequence dedup: duplicates are applied again, gaps go unnoticed; the channel's
 *  last seq only ever grows. */
export const withoutDedup: SubtaskDecider = (facts, input) => {
  const decision = decideSubtask(facts, input);
  if (input.kind !== 'envelope' || !isChannelEnvelope(input.env)) return decision;
  const duplicate = decision.kind === 'drop' && decision.reason === 'duplicate';
  const lost = decision.kind === 'reject' && decision.error instanceof LostMessageError;
  if (!duplicate && !lost) return decision;
  const env = input.env;
  const channel = channelOf(facts.inputs.ref, env);
  const last = facts.state.lastSeq(channel);
  // Decided as if it were the channel's next envelope.
  const asNext = { ...facts.state, lastSeq: (c: string) => (c === channel ? env.seq - 1 : facts.state.lastSeq(c)) };
  const accepted = decideSubtask({ ...facts, state: asNext }, input);
  return 'seq' in accepted ? { ...accepted, seq: Math.max(last, env.seq) } : accepted;
};

/** Without generation fencing: an envelope of an older generation is applied as if current. */
export const withoutFencing: SubtaskDecider = (facts, input) =>
  input.kind === 'envelope' && input.env.gen < facts.gen ? decideSubtask({ ...facts, gen: input.env.gen }, input) : decideSubtask(facts, input);

/** Without the alignment buffer: exactly-once decided as at-least-once, which never blocks
 *  a channel (records after a barrier leak into the snapshot before it). */
export const withoutAlignmentBuffer: SubtaskDecider = (facts, input) => decideSubtask({ ...facts, mode: 'at-least-once' }, input);
