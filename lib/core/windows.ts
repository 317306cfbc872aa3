/**
 * Event-time windows, Flink's semantics:
 * - a window is [start, end); its last timestamp ("maxTimestamp") is end - 1;
 * - it fires when the watermark reaches its maxTimestamp (a record at exactly `end` belongs
 *   to the next window; a watermark equal to `end`, or to `end - 1`, fires it);
 * - with allowed lateness L, a record for a window that already fired still counts while
 *   the watermark is below maxTimestamp + L, and re-fires the window; later than that it is
 *   late: it goes to the late-records output or is dropped and counted;
 * - a window's state is cleared once the watermark reaches maxTimestamp + L.
 * Pure functions; the runtime keeps the window state.
 */

export interface Window {
  readonly start: number;
  readonly end: number;
}

export type WindowAssigner =
  | { readonly kind: 'tumbling'; readonly size: number; readonly offset: number }
  | { readonly kind: 'sliding'; readonly size: number; readonly slide: number; readonly offset: number }
  | { readonly kind: 'session'; readonly gap: number };

export const maxTimestamp = (w: Window) => w.end - 1;

/** Start of the window of length `step` (aligned to `offset`) that holds `ts`; works below 0 too. */
export function windowStart(ts: number, step: number, offset: number): number {
  const r = (ts - offset) % step;
  return ts - (r < 0 ? r + step : r);
}

/** Windows a record with timestamp `ts` belongs to (sessions: its own proto-window). */
export function assignWindows(assigner: WindowAssigner, ts: number): Window[] {
  switch (assigner.kind) {
    case 'tumbling': {
      const start = windowStart(ts, assigner.size, assigner.offset);
      return [{ start, end: start + assigner.size }];
    }
    case 'sliding': {
      const out: Window[] = [];
      const last = windowStart(ts, assigner.slide, assigner.offset);
      for (let start = last; start > ts - assigner.size; start -= assigner.slide) out.push({ start, end: start + assigner.size });
      return out;
    }
    case 'session':
      return [{ start: ts, end: ts + assigner.gap }];
  }
}

/** The window's fate for a record, given the current watermark. */
export type Placement = 'on-time' | 'late-refire' | 'expired';

export function placement(window: Window, watermark: number, allowedLateness: number): Placement {
  if (maxTimestamp(window) + allowedLateness <= watermark) return 'expired';
  return maxTimestamp(window) <= watermark ? 'late-refire' : 'on-time';
}

export const overlaps = (a: Window, b: Window) => a.start < b.end && b.start < a.end;
export const cover = (a: Window, b: Window): Window => ({ start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) });

/**
 * Session merging: adds `fresh` to a key's sessions, merging every session it overlaps
 * (a record can bridge two sessions). Returns the merged window and which existing
 * sessions it absorbed (their state must be merged into it).
 */
export function mergeSession(existing: readonly Window[], fresh: Window): { merged: Window; absorbed: Window[] } {
  let merged = fresh;
  const absorbed: Window[] = [];
  // Repeat until stable: absorbing one session can make the result reach another.
  for (let changed = true; changed; ) {
    changed = false;
    for (const w of existing) {
      if (!absorbed.includes(w) && overlaps(w, merged)) {
        merged = cover(merged, w);
        absorbed.push(w);
        changed = true;
      }
    }
  }
  return { merged, absorbed };
}

export const windowId = (w: Window) => `${w.start}:${w.end}`;

export function parseWindowId(id: string): Window {
  const [start, end] = id.split(':').map(Number);
  return { start: start!, end: end! };
}
