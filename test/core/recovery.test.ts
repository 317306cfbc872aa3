import { describe, expect, it } from 'vitest';
import { collect, generator, job } from '../../lib/api/index.js';
import { RestoreError } from '../../lib/core/errors.js';
import { checkpointId, generation, type SubtaskKey } from '../../lib/core/ids.js';
import { encodeKey, keyGroupOf, keyGroupRange } from '../../lib/core/keygroups.js';
import { newCheckpointRecord } from '../../lib/core/manifest.js';
import { chooseCheckpoint, redistribute, regroupByOperator, type SubtaskSnapshot } from '../../lib/core/recovery.js';
import { stateKeys } from '../../lib/core/wire/state-keys.js';
import { compileTopology, stageById } from '../../lib/core/topology.js';

function graph() {
  const j = job('j', { maxParallelism: 16, parallelism: 2 });
  j.source('src', generator({ count: 1, make: (i) => i })).keyBy((x) => String(x)).reduce('r', (a) => a).sink('out', collect());
  return j.build();
}

function snapshot(stage: string, subtask: number, parallelism: number, entries: [string, unknown][]): SubtaskSnapshot {
  return { v: 1, job: 'j', stage, subtask, parallelism, checkpoint: checkpointId(5), gen: generation(1), finished: false, progress: 0, channels: {}, entries };
}

describe('restore planning', () => {
  it('regroups state by operator: to the stage that runs it now, dropping operators the job lacks', () => {
    // Stage r (r, out chained) of the old job; the new job runs only r (its graph has out, not gone).
    const old = snapshot('r', 0, 2, [
      [stateKeys.keyed('r', 'acc', 3, 'k'), 1],
      [stateKeys.sinkTxn('out', 4, 0), { parts: [] }],
      [stateKeys.keyed('gone', 'acc', 3, 'k'), 2],
      [stateKeys.watermark, 7],
    ]);
    const regrouped = regroupByOperator(new Map([['r', [old]]]), compileTopology(graph()));
    expect([...regrouped.keys()]).toEqual(['r']);
    expect(regrouped.get('r')![0]!.entries.map(([k]) => k)).toEqual([stateKeys.keyed('r', 'acc', 3, 'k'), stateKeys.sinkTxn('out', 4, 0), stateKeys.watermark]);
    // A stage of the old job that is gone takes its subtask entries with it.
    expect(regroupByOperator(new Map([['old-stage', [snapshot('old-stage', 0, 2, [[stateKeys.watermark, 7]])]]]), compileTopology(graph())).size).toBe(0);
  });

  it('moves keyed state by key group to the new owner when parallelism changes 2 → 3', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    const entry = (k: string): [string, unknown] => {
      const enc = encodeKey(k);
      return [stateKeys.keyed('r', 'acc', keyGroupOf(enc, 16), enc), k];
    };
    const old = [0, 1].map((i) => {
      const range = keyGroupRange(16, 2, i);
      return snapshot('r', i, 2, keys.map(entry).filter(([key]) => {
        const g = Number(key.split('/')[3]);
        return g >= range.start && g <= range.end;
      }));
    });
    const stage = stageById(compileTopology(graph(), { r: 3 }), 'r');
    const plan = redistribute(stage, old, 16);
    expect(plan.entries).toHaveLength(3);
    expect(plan.entries.reduce((n, m) => n + m.size, 0)).toBe(40);
    plan.entries.forEach((m, i) => {
      const range = keyGroupRange(16, 3, i);
      for (const key of m.keys()) {
        const g = Number(key.split('/')[3]);
        expect(g >= range.start && g <= range.end).toBe(true);
      }
    });
  });

  it('copies broadcast state to every new subtask: new subtask i takes old subtask i mod the old parallelism\'s', () => {
    const copy = (i: number): [string, unknown] => [stateKeys.broadcast('r', 'rules'), { from: i }];
    const old = [0, 1].map((i) => snapshot('r', i, 2, [copy(i)]));
    const at = (p: number) => redistribute(stageById(compileTopology(graph(), { r: p }), 'r'), old, 16).entries.map((m) => m.get(stateKeys.broadcast('r', 'rules')));
    expect(at(3)).toEqual([{ from: 0 }, { from: 1 }, { from: 0 }]);
    expect(at(1)).toEqual([{ from: 0 }]);
  });

  it('splits a non-keyed list state evenly over the new subtasks, in old-subtask order, and gives a union list whole to each', () => {
    const split = stateKeys.operatorList('r', 'buffer', false);
    const union = stateKeys.operatorList('r', 'seen', true);
    const old = [snapshot('r', 1, 2, [[split, [4, 5]], [union, ['b']]]), snapshot('r', 0, 2, [[split, [1, 2, 3]], [union, ['a']]])];
    const at = (p: number, key: string) => redistribute(stageById(compileTopology(graph(), { r: p }), 'r'), old, 16).entries.map((m) => m.get(key));
    expect(at(3, split)).toEqual([[1], [2, 3], [4, 5]]);
    expect(at(2, split)).toEqual([[1, 2, 3], [4, 5]]);
    expect(at(1, split)).toEqual([[1, 2, 3, 4, 5]]);
    expect(at(3, union)).toEqual([['a', 'b'], ['a', 'b'], ['a', 'b']]);
    expect(at(2, union)).toEqual([['a', 'b'], ['a', 'b']]);
  });

  it('keeps source offsets with their subtask and refuses to rescale a source', () => {
    const t = compileTopology(graph());
    const src = stageById(t, 'src');
    const old = [0, 1].map((i) => snapshot('src', i, 2, [[stateKeys.source('src'), { offset: i * 10 }]]));
    expect(redistribute(src, old, 16).entries.map((m) => m.get(stateKeys.source('src')))).toEqual([{ offset: 0 }, { offset: 10 }]);
    const three = stageById(compileTopology(graph(), { src: 3 }), 'src');
    expect(() => redistribute(three, old, 16)).toThrow(RestoreError);
  });

  it('hands sink transactions of the snapshot to the restore to commit, not to working state', () => {
    const t = compileTopology(graph());
    const stage = stageById(t, 'r');
    const txn = [stateKeys.sinkTxn('out', 4, 1), { parts: ['p1', 'p2'] }] as [string, unknown];
    const plan = redistribute(stage, [snapshot('r', 0, 2, []), snapshot('r', 1, 2, [txn])], 16);
    expect(plan.transactions).toEqual([{ op: 'out', checkpoint: 4, subtask: 1, parts: ['p1', 'p2'] }]);
    expect(plan.entries.every((m) => m.size === 0)).toBe(true);
  });

  it('chooses latest along the failed generation’s lineage, not a newer checkpoint of another line', () => {
    const mk = (id: number, gen: number, status: 'COMPLETED' | 'ABORTED', savepoint: string | null = null) => ({
      ...newCheckpointRecord({ id: checkpointId(id), gen: generation(gen), stages: {}, now: 0, savepoint: savepoint ? { name: savepoint, stop: true } : null, activity: 0 }),
      status,
    });
    const all = [mk(3, 1, 'COMPLETED', 'sp'), mk(4, 1, 'COMPLETED'), mk(5, 2, 'ABORTED'), mk(6, 2, 'COMPLETED'), mk(7, 3, 'ABORTED')];
    expect(chooseCheckpoint({ kind: 'latest' }, all, { gen: generation(2), base: checkpointId(3) })?.id).toBe(6);
    // generation 3 was restored from 3 and completed nothing: latest is its base, not 4 or 6
    expect(chooseCheckpoint({ kind: 'latest' }, all, { gen: generation(3), base: checkpointId(3) })?.id).toBe(3);
    expect(chooseCheckpoint({ kind: 'latest' }, all, { gen: generation(3), base: null })).toBeNull();
    expect(chooseCheckpoint({ kind: 'savepoint', name: 'sp' }, all, { gen: generation(3), base: null })?.id).toBe(3);
    expect(() => chooseCheckpoint({ kind: 'checkpoint', checkpoint: 5 }, all, { gen: generation(3), base: null })).toThrow(/ABORTED/);
    expect(() => chooseCheckpoint({ kind: 'checkpoint', checkpoint: 99 }, all, { gen: generation(3), base: null })).toThrow(/does not exist/);
    expect(() => chooseCheckpoint({ kind: 'savepoint', name: 'nope' }, all, { gen: generation(3), base: null })).toThrow(RestoreError);
  });
});
