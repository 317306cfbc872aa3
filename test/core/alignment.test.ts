import { describe, expect, it } from 'vitest';
import { INITIAL_ALIGNMENT, isBlocked, onBarrier, type AlignmentState } from '../../lib/core/alignment.js';
import type { CheckpointMode } from '../../lib/core/config.js';

const inputs = ['a', 'b', 'c'];

function run(mode: CheckpointMode, events: [string, number, number][]) {
  let state: AlignmentState = INITIAL_ALIGNMENT;
  return events.map(([channel, checkpoint, now]) => {
    const r = onBarrier(state, { channel, checkpoint, inputs, mode, now });
    state = r.state;
    return { decision: r.decision, state, blocked: inputs.filter((c) => isBlocked(state, c, mode)) };
  });
}

describe('barrier alignment', () => {
  it('exactly-once: collects barriers, blocks channels that delivered, snapshots when all arrived', () => {
    const [first, second, third] = run('exactly-once', [
      ['a', 1, 100],
      ['c', 1, 150],
      ['b', 1, 400],
    ]);
    expect(first!.decision).toEqual({ kind: 'collect', block: true });
    expect(first!.blocked).toEqual(['a']);
    expect(second!.blocked).toEqual(['a', 'c']);
    expect(third!.decision).toEqual({ kind: 'snapshot', checkpoint: 1, alignmentMs: 300 });
    expect(third!.state).toEqual({ phase: 'waiting', lastCheckpoint: 1 });
    expect(third!.blocked).toEqual([]);
  });

  it('at-least-once never blocks but still snapshots once all barriers arrived', () => {
    const steps = run('at-least-once', [
      ['a', 1, 0],
      ['b', 1, 0],
      ['c', 1, 5],
    ]);
    expect(steps.map((s) => s.blocked)).toEqual([[], [], []]);
    expect(steps[2]!.decision.kind).toBe('snapshot');
  });

  it('a single-input subtask snapshots on its first barrier', () => {
    const r = onBarrier(INITIAL_ALIGNMENT, { channel: 'a', checkpoint: 4, inputs: ['a'], mode: 'exactly-once', now: 0 });
    expect(r.decision).toEqual({ kind: 'snapshot', checkpoint: 4, alignmentMs: 0 });
  });

  it('ignores repeated, older and already snapshotted barriers', () => {
    const steps = run('exactly-once', [
      ['a', 2, 0],
      ['a', 2, 1],
      ['b', 1, 2],
      ['b', 2, 3],
      ['c', 2, 4],
      ['a', 2, 5],
    ]);
    expect(steps.map((s) => s.decision.kind)).toEqual(['collect', 'ignore', 'ignore', 'collect', 'snapshot', 'ignore']);
  });

  it('a newer barrier cancels the current alignment and starts over (Flink behaviour)', () => {
    const steps = run('exactly-once', [
      ['a', 1, 0],
      ['b', 2, 10],
      ['c', 2, 20],
      ['a', 2, 30],
    ]);
    expect(steps[1]!.decision).toEqual({ kind: 'collect', block: true, cancelled: 1 });
    expect(steps[1]!.blocked).toEqual(['b']);
    expect(steps[3]!.decision).toEqual({ kind: 'snapshot', checkpoint: 2, alignmentMs: 20 });
    // barrier 1 arriving late from c is stale now
    const late = onBarrier(steps[3]!.state, { channel: 'c', checkpoint: 1, inputs, mode: 'exactly-once', now: 40 });
    expect(late.decision.kind).toBe('ignore');
  });
});
