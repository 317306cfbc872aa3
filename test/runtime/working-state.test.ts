/**
 * What an incremental snapshot writes comes from WorkingState's changes since the last
 * chained snapshot; a cold start must rebuild exactly that set from the committed history
 * (bases and deltas), or a restore would miss a change or carry a stale one.
 */
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../../lib/adapters/memory/memory-blob-store.js';
import { MemoryStateStore } from '../../lib/adapters/memory/memory-state-store.js';
import { generation } from '../../lib/core/ids.js';
import { StatePersistence } from '../../lib/runtime/state-persistence.js';
import { WorkingState } from '../../lib/runtime/working-state.js';

const ref = { stage: 'sum' as never, index: 0 };
const keys = (ws: WorkingState) => [...ws.snapshotKeysChanged()].sort();

function persistence(rebaseEvery: number, maxDeltas: number) {
  return new StatePersistence('j' as never, new MemoryStateStore(), new MemoryBlobStore(), { rebaseEvery, maxDeltas });
}

describe('changes since the last chained snapshot', () => {
  it('counts operator state only, starts over at a snapshot, and keeps what changed after it in the same invocation', () => {
    const ws = new WorkingState({ gen: generation(1), ver: 0 });
    ws.set('k/sum/acc/1/a', 1);
    ws.set('c/i/x', 4);
    ws.set('src/s', { offset: 1 });
    expect(keys(ws)).toEqual(['k/sum/acc/1/a', 'src/s']);
    ws.snapshotTaken();
    ws.set('k/sum/acc/1/b', 2);
    expect(keys(ws)).toEqual(['k/sum/acc/1/b']);
    ws.takeDelta();
    ws.delete('k/sum/acc/1/a');
    expect(ws.changedSinceSnapshot()).toEqual({ set: [['k/sum/acc/1/b', 2]], deleted: ['k/sum/acc/1/a'] });
  });

  it.each([
    ['deltas only', 1000, 1000],
    ['with bases written in between', 1, 3],
  ])('a cold load rebuilds the same set (%s)', async (_what, rebaseEvery, maxDeltas) => {
    const p = persistence(rebaseEvery, maxDeltas);
    await p.writeBase(ref, { gen: generation(1), ver: 0 }, new Map()); // as a restore or a start does
    let ws = await p.load(ref);
    const steps: ((w: WorkingState) => void)[] = [
      (w) => w.set('k/sum/acc/1/a', 1),
      (w) => {
        w.set('k/sum/acc/1/b', 1);
        w.snapshotTaken();
        w.set('k/sum/acc/1/c', 1);
      },
      (w) => w.set('c/p', 3),
      (w) => w.delete('k/sum/acc/1/c'),
      (w) => w.set('wm/current', 7),
      (w) => w.snapshotTaken(),
      (w) => w.set('k/sum/acc/1/a', 2),
    ];
    for (const step of steps) {
      step(ws);
      expect(await p.commit(ref, ws)).toBe(true);
      const cold = await p.load(ref);
      expect(keys(cold)).toEqual(keys(ws));
      expect(cold.changedSinceSnapshot()).toEqual(ws.changedSinceSnapshot());
      ws = cold;
    }
    expect(keys(ws)).toEqual(['k/sum/acc/1/a']);
  });
});
