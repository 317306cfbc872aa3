/**
 * The runtime's window operator at its boundaries: records at window_end, watermark equal to
 * the end, lateness within and beyond the allowed lateness, session merges, state cleanup.
 */
import { describe, expect, it } from 'vitest';
import type { OperatorNode, WindowFunction } from '../../lib/core/graph.js';
import { generation, operatorName } from '../../lib/core/ids.js';
import { encodeKey, keyGroupOf } from '../../lib/core/keygroups.js';
import type { WindowAssigner } from '../../lib/core/windows.js';
import { WindowOperator } from '../../lib/runtime/window-operator.js';
import { WorkingState } from '../../lib/runtime/working-state.js';

const count: WindowFunction = { kind: 'aggregate', create: () => 0, add: (n) => (n as number) + 1, merge: (a, b) => (a as number) + (b as number), result: (n, key, w) => `${String(key)}[${w.start},${w.end})=${String(n)}` };

function harness(assigner: WindowAssigner, allowedLateness = 0, late: 'drop' | 'side-output' = 'side-output') {
  const op: OperatorNode = { name: operatorName('w'), spec: { kind: 'window', assigner, allowedLateness, late, fn: count }, parallelism: 1, inputs: [], chainable: true };
  const ws = new WorkingState({ gen: generation(1), ver: 0 });
  const out: string[] = [];
  const lateOut: unknown[] = [];
  let wm = Number.MIN_SAFE_INTEGER;
  const w = new WindowOperator(op, { ws, keyGroups: { start: 0, end: 127 }, next: (v) => out.push(v as string), late: (v) => lateOut.push(v), watermark: () => wm, processingTime: () => Number.MIN_SAFE_INTEGER });
  return {
    ws,
    out,
    lateOut,
    record(key: string, ts: number) {
      const enc = encodeKey(key);
      w.onRecord({ key, ts }, ts, enc, keyGroupOf(enc, 128));
    },
    watermark(to: number) {
      wm = to;
      w.onWatermark(to);
    },
  };
}

describe('window operator', () => {
  it('a record at exactly window_end counts in the next window; a watermark of end - 1 fires, end - 2 does not', () => {
    const h = harness({ kind: 'tumbling', size: 100, offset: 0 });
    h.record('a', 0);
    h.record('a', 99);
    h.record('a', 100);
    h.watermark(98);
    expect(h.out).toEqual([]);
    h.watermark(99);
    expect(h.out).toEqual(['a[0,100)=2']);
    h.watermark(200); // a watermark past the end fires the next one
    expect(h.out).toEqual(['a[0,100)=2', 'a[100,200)=1']);
  });

  it('a watermark equal to the end fires a window', () => {
    const h = harness({ kind: 'tumbling', size: 100, offset: 0 });
    h.record('a', 50);
    h.watermark(100);
    expect(h.out).toEqual(['a[0,100)=1']);
  });

  it('late within the allowed lateness re-fires the window; beyond it goes to the late output', () => {
    const h = harness({ kind: 'tumbling', size: 100, offset: 0 }, 50);
    h.record('a', 10);
    h.watermark(120);
    expect(h.out).toEqual(['a[0,100)=1']);
    h.record('a', 20); // late, but the window is kept until 99 + 50
    expect(h.out).toEqual(['a[0,100)=1', 'a[0,100)=2']);
    h.watermark(149); // cleanup time reached: the window's state is gone
    h.record('a', 30);
    expect(h.lateOut).toEqual([{ key: 'a', ts: 30 }]);
    expect(h.out).toHaveLength(2);
    expect(h.ws.keysWithPrefix('k/w/w/')).toEqual([]);
  });

  it('drops and counts records later than the lateness when asked to', () => {
    const h = harness({ kind: 'tumbling', size: 100, offset: 0 }, 0, 'drop');
    h.record('a', 10);
    h.watermark(100);
    h.record('a', 11);
    h.record('b', 12);
    expect(h.ws.get('cnt/w/lateDropped')).toBe(2);
  });

  it('sliding windows fire each window a record belongs to', () => {
    const h = harness({ kind: 'sliding', size: 100, slide: 50, offset: 0 });
    h.record('a', 60);
    h.watermark(1000);
    expect(h.out.sort()).toEqual(['a[0,100)=1', 'a[50,150)=1']);
  });

  it('session windows merge when a record bridges them, and fire once', () => {
    const h = harness({ kind: 'session', gap: 10 });
    h.record('a', 0); // [0,10)
    h.record('a', 15); // [15,25)
    h.watermark(5);
    expect(h.out).toEqual([]);
    h.record('a', 8); // [8,18) bridges both: [0,25) with 3 records
    h.watermark(24);
    expect(h.out).toEqual(['a[0,25)=3']);
    expect(h.ws.keysWithPrefix('k/w/')).toEqual([]); // state and timers cleared
  });

  it('a late record merging into a fired session re-fires it once, not again at the next watermark', () => {
    const h = harness({ kind: 'session', gap: 10 }, 100);
    h.record('a', 50); // [50,60)
    h.watermark(70);
    expect(h.out).toEqual(['a[50,60)=1']);
    h.record('a', 45); // [45,55) merges: [45,60), already past its end → fires now
    expect(h.out).toEqual(['a[50,60)=1', 'a[45,60)=2']);
    h.watermark(80);
    h.watermark(200); // cleanup; no second firing of [45,60)
    expect(h.out).toEqual(['a[50,60)=1', 'a[45,60)=2']);
  });

  it('timers survive a restore: the index is rebuilt from the keyed timer entries', () => {
    const h = harness({ kind: 'tumbling', size: 100, offset: 0 });
    h.record('a', 10);
    h.ws.delete('c/ti/w'); // what a restore does: generation-local entries are not in snapshots
    h.watermark(99);
    expect(h.out).toEqual(['a[0,100)=1']);
  });
});
