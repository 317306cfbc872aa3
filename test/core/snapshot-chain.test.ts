import { describe, expect, it } from 'vitest';
import { RestoreError } from '../../lib/core/errors.js';
import { checkpointId, generation } from '../../lib/core/ids.js';
import type { SubtaskSnapshot } from '../../lib/core/recovery.js';
import { chainSpan, extendChain, materialize, mayChain, startChain, type SubtaskDeltaSnapshot } from '../../lib/core/snapshot-chain.js';

const on = { incremental: true, fullSnapshotEvery: 4 };
const header = (cp: number) => ({ job: 'j', stage: 'sum', subtask: 1, parallelism: 2, checkpoint: checkpointId(cp), gen: generation(3), finished: false, progress: cp, channels: {} });
const full = (cp: number, entries: [string, unknown][]): SubtaskSnapshot => ({ ...header(cp), v: 1, entries });
const delta = (cp: number, chain: number[], entries: [string, unknown][], deleted: string[] = []): SubtaskDeltaSnapshot => ({ ...header(cp), v: 2, entries, deleted, chain });

describe('when a snapshot may be a delta', () => {
  const chain = startChain(10, 1000);

  it('chains within fullSnapshotEvery checkpoint ids of the full one, and not beyond', () => {
    expect(mayChain(chain, 11, false, on)).toBe(true);
    expect(mayChain(chain, 13, false, on)).toBe(true);
    expect(mayChain(chain, 14, false, on)).toBe(false);
  });

  it('never for a savepoint, without a chain, with incremental off, or at an id not after the chain', () => {
    expect(mayChain(chain, 11, true, on)).toBe(false);
    expect(mayChain(undefined, 11, false, on)).toBe(false);
    expect(mayChain(chain, 11, false, { ...on, incremental: false })).toBe(false);
    expect(mayChain(chain, 10, false, on)).toBe(false);
    expect(chainSpan({ ...on, incremental: false })).toBe(1);
    expect(chainSpan(on)).toBe(4);
  });

  it("stops chaining once the deltas would outgrow the full snapshot: a restore reads at most about twice the state", () => {
    const a = extendChain(chain, 11, 600)!;
    expect(a).toEqual({ ids: [10, 11], fullBytes: 1000, deltaBytes: 600 });
    expect(extendChain(a, 12, 400)).toEqual({ ids: [10, 11, 12], fullBytes: 1000, deltaBytes: 1000 });
    expect(extendChain(a, 12, 401)).toBeNull();
  });
});

describe('materializing a chain', () => {
  it('folds the full snapshot and its deltas oldest first: later values win, deletions remove', () => {
    const base = full(10, [['k/sum/acc/1/a', 1], ['k/sum/acc/1/b', 2], ['src/x', 'o']]);
    const d11 = delta(11, [10], [['k/sum/acc/1/a', 5]], ['k/sum/acc/1/b']);
    const d12 = delta(12, [10, 11], [['k/sum/acc/1/b', 9], ['k/sum/acc/1/c', 3]]);
    const out = materialize(d12, [base, d11]);
    expect(out.v).toBe(1);
    expect(out.checkpoint).toBe(12);
    expect(out.progress).toBe(12);
    expect(new Map(out.entries)).toEqual(new Map<string, unknown>([['k/sum/acc/1/a', 5], ['k/sum/acc/1/b', 9], ['src/x', 'o'], ['k/sum/acc/1/c', 3]]));
    expect(out).not.toHaveProperty('chain');
  });

  it('refuses a chain that is not the one the delta names', () => {
    const d12 = delta(12, [10, 11], []);
    const base = full(10, []);
    expect(() => materialize(d12, [base])).toThrow(RestoreError);
    expect(() => materialize(d12, [base, delta(11, [9], [])].reverse())).toThrow(/chains onto checkpoint 10/);
    expect(() => materialize(d12, [base, { ...delta(11, [10], []), subtask: 0 }])).toThrow(/found sum\/0 of checkpoint 11/);
    expect(() => materialize(d12, [base, full(11, [])])).toThrow(/start with a full snapshot and go on with deltas/);
  });
});
