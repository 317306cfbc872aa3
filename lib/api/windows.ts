/**
 * Window assigners for `keyBy(...).window(...)`, in event time (ms):
 * tumbling(size), sliding(size, slide), session(gap). A window is [start, end) and fires when
 * the watermark reaches end - 1, as in Flink.
 */
import { requireInt } from '../core/config.js';
import type { WindowAssigner } from '../core/windows.js';

export type { Window } from '../core/windows.js';

/** Fixed, non-overlapping windows: [k·size + offset, (k+1)·size + offset). */
export function tumbling(size: number, options: { offset?: number } = {}): WindowAssigner {
  return { kind: 'tumbling', size: requireInt('window.size', size, 1), offset: requireInt('window.offset', options.offset ?? 0, 0) };
}

/** Windows of `size` starting every `slide`; a record belongs to ⌈size / slide⌉ of them. */
export function sliding(size: number, slide: number, options: { offset?: number } = {}): WindowAssigner {
  return {
    kind: 'sliding',
    size: requireInt('window.size', size, 1),
    slide: requireInt('window.slide', slide, 1),
    offset: requireInt('window.offset', options.offset ?? 0, 0),
  };
}

/** Per-key sessions: records closer than `gap` belong together; a record can bridge two. */
export function session(gap: number): WindowAssigner {
  return { kind: 'session', gap: requireInt('window.gap', gap, 1) };
}
