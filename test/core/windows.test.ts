import { describe, expect, it } from 'vitest';
import { assignWindows, maxTimestamp, mergeSession, placement, windowStart } from '../../lib/core/windows.js';
import { combineWatermarks, MAX_WATERMARK, MIN_WATERMARK, sourceWatermark } from '../../lib/core/watermarks.js';

describe('window assignment', () => {
  it('tumbling: [start, start + size); a record at exactly window_end starts the next window', () => {
    const t = { kind: 'tumbling', size: 60_000, offset: 0 } as const;
    expect(assignWindows(t, 0)).toEqual([{ start: 0, end: 60_000 }]);
    expect(assignWindows(t, 59_999)).toEqual([{ start: 0, end: 60_000 }]);
    expect(assignWindows(t, 60_000)).toEqual([{ start: 60_000, end: 120_000 }]);
    expect(assignWindows(t, -1)).toEqual([{ start: -60_000, end: 0 }]);
    expect(assignWindows({ ...t, offset: 15_000 }, 14_999)).toEqual([{ start: -45_000, end: 15_000 }]);
  });

  it('sliding: every window of `size` starting each `slide` that holds the record', () => {
    const s = { kind: 'sliding', size: 10, slide: 5, offset: 0 } as const;
    expect(assignWindows(s, 12)).toEqual([
      { start: 10, end: 20 },
      { start: 5, end: 15 },
    ]);
    expect(assignWindows(s, 10)).toEqual([
      { start: 10, end: 20 },
      { start: 5, end: 15 },
    ]);
    expect(assignWindows({ ...s, slide: 20 }, 15)).toEqual([]); // a gap between windows
    expect(windowStart(-7, 5, 0)).toBe(-10);
  });

  it('fires when the watermark reaches end - 1, and keeps the window for the allowed lateness', () => {
    const w = { start: 0, end: 100 };
    expect(maxTimestamp(w)).toBe(99);
    expect(placement(w, 98, 0)).toBe('on-time');
    expect(placement(w, 99, 0)).toBe('expired'); // fired and, without lateness, gone
    expect(placement(w, 99, 50)).toBe('late-refire');
    expect(placement(w, 100, 50)).toBe('late-refire'); // watermark equal to the end
    expect(placement(w, 148, 50)).toBe('late-refire');
    expect(placement(w, 149, 50)).toBe('expired');
  });

  it('merges sessions a record bridges, transitively', () => {
    const a = { start: 0, end: 10 };
    const b = { start: 20, end: 30 };
    const c = { start: 35, end: 45 };
    expect(mergeSession([a, b, c], { start: 5, end: 15 })).toEqual({ merged: { start: 0, end: 15 }, absorbed: [a] });
    expect(mergeSession([a, b, c], { start: 8, end: 22 })).toEqual({ merged: { start: 0, end: 30 }, absorbed: [a, b] });
    expect(mergeSession([a, b], { start: 10, end: 20 })).toEqual({ merged: { start: 10, end: 20 }, absorbed: [] }); // touching is not overlapping
  });
});

describe('watermarks', () => {
  it('a source trails its largest timestamp by the out-of-orderness (minus one, like Flink)', () => {
    expect(sourceWatermark(10_000, 2_000)).toBe(7_999);
    expect(sourceWatermark(MIN_WATERMARK, 2_000)).toBe(MIN_WATERMARK);
  });

  it('an operator takes the minimum over its inputs, leaves idle ones out, never goes back', () => {
    expect(combineWatermarks([{ wm: 5, idle: false }, { wm: 9, idle: false }], 0)).toEqual({ wm: 5, idle: false });
    expect(combineWatermarks([{ wm: 5, idle: true }, { wm: 9, idle: false }], 0)).toEqual({ wm: 9, idle: false });
    expect(combineWatermarks([{ wm: 5, idle: false }], 7)).toEqual({ wm: 7, idle: false });
    expect(combineWatermarks([{ wm: 5, idle: true }, { wm: 9, idle: true }], 3)).toEqual({ wm: 3, idle: true });
    expect(combineWatermarks([{ wm: MAX_WATERMARK, idle: false }, { wm: MIN_WATERMARK, idle: false }], MIN_WATERMARK).wm).toBe(MIN_WATERMARK);
  });
});
