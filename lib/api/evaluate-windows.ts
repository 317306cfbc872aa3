/**
 * The sequential evaluation of an event-time window operator, kept deliberately naive and
 * separate from the runtime's (lib/runtime/window-operator.ts): every watermark scans every
 * window. Semantics as documented in lib/core/windows.ts.
 *
 * A record is planned before it is applied: its windows' new accumulators (user functions
 * get copies, when a throw must leave them as they were) and the results of the late
 * windows it re-fires. A plan that throws is the record's user error: skipped, the record is
 * in none of its windows. A window firing on the watermark is no one record's doing: what
 * it throws always ends the evaluation, as it fails the engine over. Early firings
 * (earlyEvery) fire an open window, keeping it, at each of its points the watermark passes.
 */
import { InvalidInputError } from '../core/errors.js';
import type { OperatorSpec } from '../core/graph.js';
import type { Event, Input } from './evaluate-inputs.js';
import type { UserErrors } from './evaluate-user-errors.js';

type WindowSpec = Extract<OperatorSpec, { kind: 'window' }>;
type Assigner = WindowSpec['assigner'];
interface Open {
  start: number;
  end: number;
  acc: unknown;
  elements: unknown[];
  fired: boolean;
  /** Its next early firing (earlyEvery): the first start + k·every − 1 above the watermark it was opened at. */
  early: number | null;
}
interface Keyed {
  readonly key: unknown;
  readonly windows: Open[];
}

/** A window as the record leaves it. */
interface Update {
  /** The open window it changes; null for a new one (whose elements are then `before`). */
  readonly window: Open | null;
  readonly start: number;
  readonly end: number;
  readonly acc: unknown;
  /** The window's elements before the record. */
  readonly before: unknown[];
  /** The window already fired: the record re-fires it. */
  readonly refire: boolean;
}

/** What a record does to its key's windows: sessions it merges away, and its windows. */
interface Plan {
  readonly absorbed: readonly Open[];
  readonly updates: readonly Update[];
  readonly outputs: readonly Event[];
}

/** A record of the window operator's input: keyed, since a window follows a keyBy. */
type Rec = Extract<Input, { kind: 'rec' }>;

export function evaluateWindow(spec: WindowSpec, events: readonly Input[], errors: UserErrors): { main: Event[]; late: Event[] } {
  const evaluation = new WindowEvaluation(spec, errors);
  for (const e of events) {
    if (e.kind === 'wm') evaluation.onWatermark(e.wm);
    else evaluation.onRecord(e);
  }
  return { main: evaluation.main, late: evaluation.late };
}

/** One window operator over its whole input: the open windows of every key, and the output. */
class WindowEvaluation {
  readonly main: Event[] = [];
  readonly late: Event[] = [];
  private readonly keys = new Map<string, Keyed>();
  private wm = Number.MIN_SAFE_INTEGER;

  constructor(
    private readonly spec: WindowSpec,
    private readonly errors: UserErrors,
  ) {}

  /** Every window the watermark reaches fires (once); every one past its lateness closes. */
  onWatermark(mark: number): void {
    const L = this.spec.allowedLateness;
    this.wm = Math.max(this.wm, mark);
    for (const { key, windows } of this.keys.values()) {
      for (const w of [...windows]) {
        for (; w.early !== null && w.early <= this.wm; w.early = this.nextEarly(w, w.early)) {
          for (const o of this.results(key, w)) this.main.push(o);
        }
        if (!w.fired && w.end - 1 <= this.wm) {
          for (const o of this.results(key, w)) this.main.push(o);
          w.fired = true;
        }
        if (w.end - 1 + L <= this.wm) windows.splice(windows.indexOf(w), 1);
      }
    }
    this.main.push({ kind: 'wm', wm: mark });
    this.late.push({ kind: 'wm', wm: mark });
  }

  /** The early firing after `after` of window `w`, if one is left before its end. Early
   *  firings in processing time never happen here: no processing time passes. */
  private nextEarly(w: Pick<Open, 'start' | 'end'>, after: number): number | null {
    const every = this.spec.earlyEvery;
    if (every === undefined || this.spec.earlyIn === 'processing-time') return null;
    let at = w.start + every - 1;
    while (at <= after) at += every;
    return at < w.end - 1 ? at : null;
  }

  /** The record joins its windows, is the user error its plan threw, or is late. */
  onRecord(e: Rec): void {
    // As the engine: a record without event time is an error of the job, never skipped.
    if (e.ts === undefined) throw new InvalidInputError(`window: a record has no timestamp (${JSON.stringify(e.value)}); give the source a timestamp and watermarks`);
    const k = e.encoded!;
    const entry = this.keys.get(k) ?? { key: e.key, windows: [] };
    this.keys.set(k, entry);
    let p: Plan | null;
    try {
      p = this.plan(entry, e.value, e.ts);
    } catch (error) {
      this.errors.reject(error, e.value);
      return;
    }
    if (p !== null) this.apply(entry, e.value, p);
    else if (this.spec.late === 'side-output') this.late.push({ kind: 'rec', value: e.value, ts: e.ts });
  }

  /** What window `w` of `key` emits when it fires. */
  private results(key: unknown, w: Pick<Open, 'start' | 'end' | 'acc' | 'elements'>): Event[] {
    const fn = this.spec.fn;
    const ts = w.end - 1;
    if (fn.kind === 'reduce') return [{ kind: 'rec', value: w.acc, ts }];
    if (fn.kind === 'aggregate') return [{ kind: 'rec', value: fn.result(w.acc, key, { start: w.start, end: w.end }), ts }];
    const out: Event[] = [];
    fn.fn(key, { start: w.start, end: w.end }, w.elements, (value) => out.push({ kind: 'rec', value, ts }));
    return out;
  }

  /** The accumulator of a window holding `before` once `value` is added. */
  private added(acc: unknown, before: readonly unknown[], value: unknown): unknown {
    const { fn } = this.spec;
    const own = this.errors.own;
    if (fn.kind === 'reduce') return before.length === 0 && acc === undefined ? value : fn.fn(own(acc), value);
    if (fn.kind === 'aggregate') return fn.add(acc === undefined ? fn.create() : own(acc), value);
    return acc;
  }

  /** The record's plan, null when it is too late for every window. User functions run here only. */
  private plan(entry: Keyed, value: unknown, ts: number): Plan | null {
    const a = this.spec.assigner;
    const change = a.kind === 'session' ? this.sessionUpdate(a, entry, value, ts) : this.slotUpdates(a, entry, value, ts);
    if (change === null) return null;
    const outputs: Event[] = [];
    for (const u of change.updates) {
      if (u.refire) outputs.push(...this.results(entry.key, { start: u.start, end: u.end, acc: u.acc, elements: [...u.before, value] }));
    }
    return { absorbed: change.absorbed, updates: change.updates, outputs };
  }

  /** A session: the record's own window merged with every session it reaches. */
  private sessionUpdate(a: Extract<Assigner, { kind: 'session' }>, entry: Keyed, value: unknown, ts: number): Omit<Plan, 'outputs'> | null {
    const { fn } = this.spec;
    const own = this.errors.own;
    let start = ts;
    let end = ts + a.gap;
    const absorbed: Open[] = [];
    for (let grew = true; grew; ) {
      grew = false;
      for (const w of entry.windows) {
        if (!absorbed.includes(w) && w.start < end && start < w.end) {
          start = Math.min(start, w.start);
          end = Math.max(end, w.end);
          absorbed.push(w);
          grew = true;
        }
      }
    }
    if (end - 1 + this.spec.allowedLateness <= this.wm) return null;
    let acc: unknown;
    const before: unknown[] = [];
    for (const w of absorbed) {
      if (fn.kind === 'reduce') acc = before.length === 0 ? w.acc : fn.fn(own(acc), own(w.acc));
      else if (fn.kind === 'aggregate') acc = acc === undefined ? w.acc : fn.merge!(own(acc), own(w.acc));
      for (const x of w.elements) before.push(x);
    }
    return { absorbed, updates: [{ window: null, start, end, acc: this.added(acc, before, value), before, refire: end - 1 <= this.wm }] };
  }

  /** Tumbling or sliding: every window the record falls in that is not past its lateness. */
  private slotUpdates(a: Exclude<Assigner, { kind: 'session' }>, entry: Keyed, value: unknown, ts: number): Omit<Plan, 'outputs'> | null {
    const step = a.kind === 'tumbling' ? a.size : a.slide;
    const updates: Update[] = [];
    for (let start = Math.floor((ts - a.offset) / step) * step + a.offset; start > ts - a.size; start -= step) {
      const end = start + a.size;
      if (end - 1 + this.spec.allowedLateness <= this.wm) continue;
      const w = entry.windows.find((x) => x.start === start && x.end === end) ?? null;
      const before = w ? w.elements : [];
      updates.push({ window: w, start, end, acc: this.added(w?.acc, before, value), before, refire: end - 1 <= this.wm });
    }
    return updates.length === 0 ? null : { absorbed: [], updates };
  }

  /** Carries out a plan that did not throw: nothing of a record's changes happens before. */
  private apply(entry: Keyed, value: unknown, p: Plan): void {
    for (const w of p.absorbed) entry.windows.splice(entry.windows.indexOf(w), 1);
    for (const u of p.updates) {
      let w = u.window;
      if (!w) entry.windows.push((w = { start: u.start, end: u.end, acc: undefined, elements: u.before, fired: false, early: this.nextEarly(u, this.wm) }));
      w.acc = u.acc;
      w.elements.push(value);
      if (u.refire) w.fired = true;
    }
    for (const o of p.outputs) this.main.push(o);
  }
}
