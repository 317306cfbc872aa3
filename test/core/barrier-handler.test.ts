import { describe, expect, it } from 'vitest';
import { barrierHandler, INITIAL_ALIGNMENT, type AlignmentState, type BarrierHandlerEvent } from '../../lib/core/alignment.js';
import type { CheckpointMode } from '../../lib/core/config.js';

const inputs = ['a', 'b'];
const collecting: AlignmentState = { phase: 'collecting', lastCheckpoint: 0, checkpoint: 1, received: ['a'], startedAt: 0 };

/** Every event the barrier handler takes, in each state: what it decides, what state follows. */
describe('the barrier handler', () => {
  it.each<[string, AlignmentState, BarrierHandlerEvent, CheckpointMode, object, AlignmentState | 'same']>([
    ['data while waiting passes', INITIAL_ALIGNMENT, { kind: 'data', channel: 'a' }, 'exactly-once', { kind: 'pass' }, 'same'],
    ['data on a blocked channel is buffered', collecting, { kind: 'data', channel: 'a' }, 'exactly-once', { kind: 'buffer' }, 'same'],
    ['data on an open channel passes', collecting, { kind: 'data', channel: 'b' }, 'exactly-once', { kind: 'pass' }, 'same'],
    ['at-least-once never buffers', collecting, { kind: 'data', channel: 'a' }, 'at-least-once', { kind: 'pass' }, 'same'],
    ['end of input on a blocked channel is buffered', collecting, { kind: 'end', channel: 'a' }, 'exactly-once', { kind: 'buffer' }, 'same'],
    ['end of input neither completes nor cancels the alignment', collecting, { kind: 'end', channel: 'b' }, 'exactly-once', { kind: 'pass' }, 'same'],
    ['a barrier on a blocked channel is buffered', collecting, { kind: 'barrier', channel: 'a', checkpoint: 2, now: 5 }, 'exactly-once', { kind: 'buffer' }, 'same'],
    [
      'the first barrier collects, nothing to release',
      INITIAL_ALIGNMENT,
      { kind: 'barrier', channel: 'a', checkpoint: 1, now: 0 },
      'exactly-once',
      { kind: 'barrier', alignment: { kind: 'collect', block: true }, release: false },
      collecting,
    ],
    [
      'the last barrier snapshots and releases',
      collecting,
      { kind: 'barrier', channel: 'b', checkpoint: 1, now: 7 },
      'exactly-once',
      { kind: 'barrier', alignment: { kind: 'snapshot', checkpoint: 1, alignmentMs: 7 }, release: true },
      { phase: 'waiting', lastCheckpoint: 1 },
    ],
    [
      'a newer barrier cancels and releases',
      collecting,
      { kind: 'barrier', channel: 'b', checkpoint: 2, now: 9 },
      'exactly-once',
      { kind: 'barrier', alignment: { kind: 'collect', block: true, cancelled: 1 }, release: true },
      { phase: 'collecting', lastCheckpoint: 0, checkpoint: 2, received: ['b'], startedAt: 9 },
    ],
    [
      'a stale barrier is ignored',
      { phase: 'waiting', lastCheckpoint: 3 },
      { kind: 'barrier', channel: 'a', checkpoint: 2, now: 0 },
      'exactly-once',
      { kind: 'barrier', alignment: { kind: 'ignore' }, release: false },
      'same',
    ],
  ])('%s', (_name, state, event, mode, decision, next) => {
    const r = barrierHandler(state, event, { inputs, mode });
    expect(r.decision).toEqual(decision);
    expect(r.state).toEqual(next === 'same' ? state : next);
  });
});
