/**
 * The sequential evaluation of an event-time window operator, kept deliberately naive and
 * separate from the runtime's (lib/runtime/window-operator.ts): every watermark scans every
 * window. Semantics as documented in lib/core/windows.ts.
 */
import type { OperatorSpec } from '../core/graph.js';
import { encodeKey } from '../core/keygroups.js';
import type { Event } from './evaluate.js';

type WindowSpec = Extract<OperatorSpec, { kind: 'window' }>;
interface Open {
  start: number;
  end: number;
  acc: unknown;
  elements: unknown[];
  fired: boolean;
}

export function evaluateWindow(spec: WindowSpec, events: (Event & { key: unknown })[]): { main: Event[]; late: Event[] } {
  const main: Event[] = [];
  const late: Event[] = [];
  const keys = new Map<string, { key: unknown; windows: Open[] }>();
  const L = spec.allowedLateness;
  const fn = spec.fn;
  let wm = Number.MIN_SAFE_INTEGER;

  const emit = (key: unknown, w: Open) => {
    const ts = w.end - 1;
    if (fn.kind === 'reduce') main.push({ kind: 'rec', value: w.acc, ts });
    else if (fn.kind === 'aggregate') main.push({ kind: 'rec', value: fn.result(w.acc, key, { start: w.start, end: w.end }), ts });
    else fn.fn(key, { start: w.start, end: w.end }, w.elements, (value) => main.push({ kind: 'rec', value, ts }));
  };
  const add = (w: Open, value: unknown) => {
    if (fn.kind === 'reduce') w.acc = w.elements.length === 0 && w.acc === undefined ? value : fn.fn(w.acc, value);
    else if (fn.kind === 'aggregate') w.acc = fn.add(w.acc === undefined ? fn.create() : w.acc, value);
    w.elements.push(value);
  };
  const fresh = (start: number, end: number): Open => ({ start, end, acc: undefined, elements: [], fired: false });

  for (const e of events) {
    if (e.kind === 'wm') {
      wm = Math.max(wm, e.wm);
      for (const { key, windows } of keys.values()) {
        for (const w of [...windows]) {
          if (!w.fired && w.end - 1 <= wm) {
            emit(key, w);
            w.fired = true;
          }
          if (w.end - 1 + L <= wm) windows.splice(windows.indexOf(w), 1);
        }
      }
      main.push({ kind: 'wm', wm: e.wm });
      late.push({ kind: 'wm', wm: e.wm });
      continue;
    }
    const ts = e.ts!;
    const k = encodeKey(e.key);
    const entry = keys.get(k) ?? { key: e.key, windows: [] };
    keys.set(k, entry);
    const a = spec.assigner;
    let accepted = false;
    if (a.kind === 'session') {
      let merged = fresh(ts, ts + a.gap);
      let absorbed: Open[] = [];
      for (let grew = true; grew; ) {
        grew = false;
        for (const w of entry.windows) {
          if (!absorbed.includes(w) && w.start < merged.end && merged.start < w.end) {
            merged = fresh(Math.min(merged.start, w.start), Math.max(merged.end, w.end));
            absorbed = [...absorbed, w];
            grew = true;
          }
        }
      }
      if (merged.end - 1 + L > wm) {
        accepted = true;
        for (const w of absorbed) {
          entry.windows.splice(entry.windows.indexOf(w), 1);
          if (fn.kind === 'reduce') merged.acc = merged.elements.length === 0 ? w.acc : fn.fn(merged.acc, w.acc);
          else if (fn.kind === 'aggregate') merged.acc = merged.acc === undefined ? w.acc : fn.merge!(merged.acc, w.acc);
          for (const x of w.elements) merged.elements.push(x);
        }
        add(merged, e.value);
        entry.windows.push(merged);
        if (merged.end - 1 <= wm) {
          emit(e.key, merged);
          merged.fired = true;
        }
      }
    } else {
      const step = a.kind === 'tumbling' ? a.size : a.slide;
      const size = a.size;
      for (let start = Math.floor((ts - a.offset) / step) * step + a.offset; start > ts - size; start -= step) {
        const end = start + size;
        if (end - 1 + L <= wm) continue;
        accepted = true;
        let w = entry.windows.find((x) => x.start === start && x.end === end);
        if (!w) entry.windows.push((w = fresh(start, end)));
        add(w, e.value);
        if (end - 1 <= wm) {
          emit(e.key, w);
          w.fired = true;
        }
      }
    }
    if (!accepted && spec.late === 'side-output') late.push({ kind: 'rec', value: e.value, ts });
  }
  return { main, late };
}
