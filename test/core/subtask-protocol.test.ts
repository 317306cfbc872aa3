import { describe, expect, it } from 'vitest';
import type { AlignmentState } from '../../lib/core/alignment.js';
import type { CheckpointMode } from '../../lib/core/config.js';
import type { ChannelEnvelope, Envelope } from '../../lib/core/wire/envelope.js';
import { LostMessageError, MalformedEnvelopeError, NotYetRestoredError, RetryableError, TerminalError } from '../../lib/core/errors.js';
import { channelId, stageId } from '../../lib/core/ids.js';
import { stateKeys } from '../../lib/core/wire/state-keys.js';
import { decideSubtask, protocolStateOf, type SubtaskDecision, type SubtaskFacts, type SubtaskInputs } from '../../lib/core/subtask-protocol.js';
import { MAX_WATERMARK, MIN_WATERMARK } from '../../lib/core/watermarks.js';

// A subtask op/0 with two input channels, from up/0 (A) and up/1 (B), in generation 2.
const ref = { stage: stageId('op'), index: 0 };
const A = channelId({ stage: stageId('up'), index: 0 }, ref);
const B = channelId({ stage: stageId('up'), index: 1 }, ref);
const inputs: SubtaskInputs = { ref, channels: [A, B], upstreamOf: new Map([[A, 'up.0'], [B, 'up.1']]), upstreams: ['up.0', 'up.1'] };

type State = Record<string, unknown>;

function facts(state: State = {}, mode: CheckpointMode = 'exactly-once'): SubtaskFacts {
  const entries = new Map(Object.entries(state));
  return { inputs, gen: 2, mode, now: 1000, state: protocolStateOf((key) => entries.get(key)) };
}

const head = (from: number, gen = 2) => ({ v: 1 as const, job: 'j', gen, from: { op: 'up', subtask: from }, to: { op: 'op', subtask: 0 } });
const records = (from: number, seq: number, gen = 2): ChannelEnvelope => ({ ...head(from, gen), kind: 'records', seq, recs: [1, 2] });
const barrier = (from: number, seq: number, cp: number): ChannelEnvelope => ({ ...head(from), kind: 'barrier', seq, cp });
const watermark = (from: number, seq: number, wm: number, idle = false): ChannelEnvelope => ({ ...head(from), kind: 'watermark', seq, wm, ...(idle ? { idle } : {}) });
const end = (from: number, seq: number): ChannelEnvelope => ({ ...head(from), kind: 'end', seq });

const decide = (state: State, env: Envelope, mode?: CheckpointMode): SubtaskDecision => decideSubtask(facts(state, mode), { kind: 'envelope', env });
const collecting = (checkpoint: number, received: string[]): AlignmentState => ({ phase: 'collecting', lastCheckpoint: checkpoint - 1, checkpoint, received, startedAt: 400 });

describe('the subtask protocol: fencing and dedup', () => {
  it.each<[string, State, Envelope, object]>([
    ['the next seq is applied', { [stateKeys.inSeq(A)]: 3 }, records(0, 4), { kind: 'records', channel: A, seq: 4, part: `${A}@4` }],
    ['a first envelope is seq 1', {}, records(1, 1), { kind: 'records', channel: B, seq: 1 }],
    ['a repeated seq is a duplicate, dropped', { [stateKeys.inSeq(A)]: 3 }, records(0, 3), { kind: 'drop', reason: 'duplicate' }],
    ['an older seq is a duplicate, dropped', { [stateKeys.inSeq(A)]: 3 }, records(0, 1), { kind: 'drop', reason: 'duplicate' }],
    ['an older generation is fenced, dropped', { [stateKeys.inSeq(A)]: 3 }, records(0, 4, 1), { kind: 'drop', reason: 'fenced' }],
    ['fencing comes before dedup', { [stateKeys.inSeq(A)]: 3 }, records(0, 1, 1), { kind: 'drop', reason: 'fenced' }],
  ])('%s', (_name, state, env, expected) => {
    expect(decide(state, env)).toMatchObject(expected);
  });

  it.each<[string, State, Envelope, new (...a: never[]) => Error, object]>([
    ['a gap is a lost message', { [stateKeys.inSeq(A)]: 3 }, records(0, 5), LostMessageError, { channel: A, expectedSeq: 4, receivedSeq: 5 }],
    ['a newer generation: not restored yet', {}, records(0, 1, 3), NotYetRestoredError, { subtask: 'op/0', stateGeneration: 2, envelopeGeneration: 3 }],
    ['an envelope on no input channel is malformed', {}, records(7, 1), MalformedEnvelopeError, { reason: 'invalid-field' }],
  ])('%s', (_name, state, env, type, fields) => {
    const d = decide(state, env);
    if (d.kind !== 'reject') throw new Error(`expected a rejection, got ${d.kind}`);
    expect(d.error).toBeInstanceOf(type);
    expect(d.error).toMatchObject(fields);
  });

  it('a lost message is terminal, a newer generation retryable', () => {
    const lost = decide({ [stateKeys.inSeq(A)]: 1 }, records(0, 3));
    const newer = decide({}, records(0, 1, 3));
    expect(lost.kind === 'reject' && lost.error).toBeInstanceOf(TerminalError);
    expect(newer.kind === 'reject' && newer.error).toBeInstanceOf(RetryableError);
  });

  it.each(['trigger', 'poll', 'commit'] as const)('a %s of the generation goes to the source or sinks; of an older one it is fenced', (kind) => {
    const env = { ...head(0), kind, cp: 1, round: 0, at: 0, max: 1, from: { op: '$coordinator', subtask: 0 } } as unknown as Envelope;
    expect(decide({}, env)).toEqual({ kind, env });
    expect(decide({}, { ...env, gen: 1 })).toEqual({ kind: 'drop', reason: 'fenced' });
  });

  it('an entry released from the buffer is not deduplicated again', () => {
    const d = decideSubtask(facts({ [stateKeys.inSeq(A)]: 9 }), { kind: 'released', channel: A, env: records(0, 4) });
    expect(d).toMatchObject({ kind: 'records', channel: A, seq: null, part: `${A}@4` });
  });
});

describe('the subtask protocol: alignment', () => {
  const blocked = { [stateKeys.alignment]: collecting(5, [A]) };

  it.each<[string, State, Envelope, CheckpointMode, object]>([
    ['records on a blocked channel are buffered', blocked, records(0, 1), 'exactly-once', { kind: 'buffer', channel: A, seq: 1 }],
    ['so are its barriers of a later checkpoint', blocked, barrier(0, 1, 6), 'exactly-once', { kind: 'buffer', channel: A }],
    ['and its end of input', blocked, end(0, 1), 'exactly-once', { kind: 'buffer', channel: A }],
    ['the other channel carries on', blocked, records(1, 1), 'exactly-once', { kind: 'records', channel: B }],
    ['at-least-once never blocks', blocked, records(0, 1), 'at-least-once', { kind: 'records', channel: A }],
  ])('%s', (_name, state, env, mode, expected) => {
    expect(decide(state, env, mode)).toMatchObject(expected);
  });

  it('the first barrier starts collecting and blocks its channel; nothing is snapshotted yet', () => {
    const d = decide({}, barrier(0, 1, 5));
    expect(d).toMatchObject({ kind: 'barrier', snapshot: null, release: false });
    expect(d.kind === 'barrier' && d.alignment).toEqual({ phase: 'collecting', lastCheckpoint: 0, checkpoint: 5, received: [A], startedAt: 1000 });
  });

  it('the last barrier: snapshot (and forward), then release the buffer', () => {
    const d = decide(blocked, barrier(1, 1, 5));
    expect(d).toEqual({
      kind: 'barrier',
      channel: B,
      seq: 1,
      alignment: { phase: 'waiting', lastCheckpoint: 5 },
      snapshot: { checkpoint: 5, alignmentMs: 600, savepoint: false },
      release: true,
    });
  });

  it("a savepoint's barrier orders a savepoint's snapshot (whole, outside the chain)", () => {
    const d = decide(blocked, { ...barrier(1, 1, 5), sp: true } as ChannelEnvelope);
    expect(d).toMatchObject({ kind: 'barrier', snapshot: { checkpoint: 5, savepoint: true } });
  });

  it('a newer barrier cancels the alignment: the buffer is released, alignment starts over', () => {
    const d = decide(blocked, barrier(1, 1, 6));
    expect(d).toMatchObject({ kind: 'barrier', snapshot: null, release: true, cancelled: 5 });
    expect(d.kind === 'barrier' && d.alignment).toMatchObject({ phase: 'collecting', checkpoint: 6, received: [B] });
  });

  it('a stale barrier changes nothing', () => {
    const state = { [stateKeys.alignment]: { phase: 'waiting', lastCheckpoint: 5 } };
    expect(decide(state, barrier(0, 1, 4))).toMatchObject({ kind: 'barrier', alignment: state[stateKeys.alignment], snapshot: null, release: false });
  });

  it('at-least-once still snapshots once every barrier came', () => {
    const d = decide({ [stateKeys.alignment]: collecting(5, [A]) }, barrier(1, 1, 5), 'at-least-once');
    expect(d).toMatchObject({ kind: 'barrier', snapshot: { checkpoint: 5 }, release: true });
  });
});

describe('the subtask protocol: end of input and watermarks', () => {
  const wmA = (wm: number, idle = false) => ({ [stateKeys.inputWatermark('up.0')]: { wm, idle } });
  const wmB = (wm: number, idle = false) => ({ [stateKeys.inputWatermark('up.1')]: { wm, idle } });

  it.each<[string, State, ChannelEnvelope, object]>([
    ['the last channel to end finishes the subtask', { [stateKeys.ended(B)]: true }, end(0, 1), { kind: 'end', channel: A, finish: true }],
    ['an end with another channel still open does not', {}, end(0, 1), { kind: 'end', finish: false }],
    ['an end after finishing does not again', { [stateKeys.ended(B)]: true, [stateKeys.finished]: true }, end(0, 1), { kind: 'end', finish: false }],
  ])('%s', (_name, state, env, expected) => {
    expect(decide(state, env)).toMatchObject(expected);
  });

  it('end of input is the largest watermark for its upstream', () => {
    const d = decide({ ...wmB(50) }, end(0, 1));
    expect(d.kind === 'end' && d.watermark).toEqual({ upstream: 'up.0', input: { wm: MAX_WATERMARK, idle: false }, advanced: 50, forward: { wm: 50, idle: false } });
  });

  it.each<[string, State, ChannelEnvelope, object]>([
    ['nothing fires before every upstream reported', {}, watermark(0, 1, 10), { input: { wm: 10, idle: false }, advanced: null, forward: { wm: MIN_WATERMARK, idle: false } }],
    ['the minimum over the upstreams', { ...wmB(30) }, watermark(0, 1, 40), { advanced: 30, forward: { wm: 30, idle: false } }],
    ['idle upstreams are left out', { ...wmB(5, true) }, watermark(0, 1, 40), { advanced: 40 }],
    ['all idle: the subtask is idle and says so', { ...wmB(5, true) }, watermark(0, 1, 40, true), { advanced: null, forward: { wm: MIN_WATERMARK, idle: true } }],
    ['an upstream never goes back', { ...wmA(40), ...wmB(60), [stateKeys.watermark]: 40, [stateKeys.watermarkSent]: { wm: 40, idle: false } }, watermark(0, 1, 20), { input: null, advanced: null, forward: null }],
    ['the subtask never goes back', { ...wmA(10), ...wmB(60), [stateKeys.watermark]: 45 }, watermark(0, 1, 30), { advanced: null, forward: { wm: 45, idle: false } }],
    ['nothing is forwarded that was sent already', { ...wmB(30), [stateKeys.watermark]: 30, [stateKeys.watermarkSent]: { wm: 30, idle: false } }, watermark(0, 1, 40), { advanced: null, forward: null }],
  ])('%s', (_name, state, env, expected) => {
    const d = decide(state, env);
    expect(d.kind === 'watermark' && d.watermark).toMatchObject(expected);
  });

  it('a watermark riding on records is combined after them', () => {
    const env = { ...records(1, 1), wm: 70 } as ChannelEnvelope;
    expect(decide({ ...wmA(80) }, env)).toMatchObject({ kind: 'records', watermark: { upstream: 'up.1', advanced: 70 } });
    expect(decide({}, records(1, 1))).toMatchObject({ kind: 'records', watermark: null });
  });
});
