/**
 * A keyed event-time window operator (tumbling, sliding, session) over the working state.
 *
 * State, all keyed (so it moves with key groups on rescale and lives in snapshots):
 *   k/<op>/w/<kg>/<key>    { [windowId]: cell }  a cell holds an accumulator or the elements
 *   k/<op>/$t/<kg>/<time>  [key, …]              timers: keys with a window due at <time>
 * (event-timers.ts keeps them). A window's timer is its maxTimestamp; with allowed lateness a second timer at
 * maxTimestamp + lateness clears it; with early firings, a timer at each early point fires the window
 * without clearing it. Firing order is deterministic: time, key group, key.
 *
 * A record's user calls (add, merge, and the result of a window it re-fires) all run before
 * its state changes, so a call that throws leaves nothing behind and the record can be
 * skipped (`onUserError: 'dead-letter'`). A window firing on the watermark is no one
 * record's doing: its errors always fail over, naming the window and key.
 */
import { InvariantError, UserFunctionError } from '../core/errors.js';
import type { OperatorNode, TimeDomain, WindowFunction } from '../core/graph.js';
import { decodeKey, type KeyGroupRange } from '../core/keygroups.js';
import { KEYED_STATE, stateKeys } from '../core/wire/state-keys.js';
import { assignWindows, maxTimestamp, mergeSession, parseWindowId, placement, windowId, type Window, type WindowAssigner } from '../core/windows.js';
import { EventTimers } from './event-timers.js';
import type { WorkingState } from './working-state.js';

/**
 * One window's contents for one key, as stored in the `windowCells` entry (working state and
 * snapshots: the one-letter names are a stored format, kept short as they repeat per window).
 */
type Cell = AccumulatorCell | ElementsCell;
/** A reduce or aggregate window: its accumulator. */
interface AccumulatorCell {
  readonly a: unknown;
}
/** A process window: its elements, in arrival order. */
interface ElementsCell {
  readonly e: unknown[];
}
type Emit = (value: unknown, timestamp: number | undefined) => void;

export interface WindowIO {
  readonly ws: WorkingState;
  readonly keyGroups: KeyGroupRange;
  readonly next: Emit;
  /** Late records, when the operator has a late-records output. */
  readonly late: Emit;
  readonly watermark: () => number;
  /** The subtask's recorded processing time (early firings in processing time). */
  readonly processingTime: () => number;
  /** A record the window's functions threw on: fails the invocation (default), or skips the record. */
  readonly reject?: (error: UserFunctionError) => void;
  /** A copy of an accumulator handed to a user function, when a throw must leave it untouched. */
  readonly own?: <T>(value: T) => T;
}

/** What a record does to its key's windows, decided before anything is written. */
interface Plan {
  readonly cells: Record<string, Cell>;
  readonly timers: number[];
  readonly outputs: [unknown, number][]; // results of late windows it re-fires, with timestamps
}

export class WindowOperator {
  private readonly name: string;
  private readonly assigner: WindowAssigner;
  private readonly lateness: number;
  private readonly dropLate: boolean;
  private readonly fn: WindowFunction;
  private readonly reject: (error: UserFunctionError) => void;
  private readonly own: <T>(value: T) => T;
  private readonly timers: EventTimers;
  private readonly earlyEvery: number | undefined;
  private readonly earlyIn: TimeDomain;
  /** Processing-time early firings: one timer per key, at the next multiple of earlyEvery. */
  private readonly processingTimers: EventTimers;

  constructor(
    op: OperatorNode,
    private readonly io: WindowIO,
  ) {
    if (op.spec.kind !== 'window') throw new InvariantError(`${op.name} is not a window operator`);
    this.name = op.name;
    this.assigner = op.spec.assigner;
    this.lateness = op.spec.allowedLateness;
    this.dropLate = op.spec.late === 'drop';
    this.fn = op.spec.fn;
    this.earlyEvery = op.spec.earlyEvery;
    this.earlyIn = op.spec.earlyIn ?? 'event-time';
    this.reject = io.reject ?? fail;
    this.own = io.own ?? ((value) => value);
    this.timers = new EventTimers(io.ws, op.name, io.keyGroups);
    this.processingTimers = new EventTimers(io.ws, op.name, io.keyGroups, KEYED_STATE.windowProcessingTimers);
  }

  onRecord(value: unknown, ts: number | undefined, encodedKey: string, group: number): void {
    if (ts === undefined) {
      throw UserFunctionError.invalid(this.name, 'a window needs event time: give the source a timestamp and watermarks', { record: value });
    }
    const key = stateKeys.windowCells(this.name, group, encodedKey);
    let plan: Plan | null;
    try {
      plan = this.plan(value, ts, this.io.ws.get<Record<string, Cell>>(key) ?? {}, encodedKey);
    } catch (e) {
      return this.reject(UserFunctionError.threw(this.name, e, { record: value }));
    }
    if (plan === null) return this.onLate(value, ts);
    for (const time of plan.timers) this.timers.schedule(time, encodedKey, group);
    if (this.earlyIn === 'processing-time') this.processingTimers.schedule(this.nextTick(this.io.processingTime()), encodedKey, group);
    this.io.ws.set(key, plan.cells);
    for (const [v, at] of plan.outputs) this.io.next(v, at);
  }

  /** The record's windows, timers and re-fired results; null when it is too late for any window. */
  private plan(value: unknown, ts: number, stored: Record<string, Cell>, encodedKey: string): Plan | null {
    const wm = this.io.watermark();
    const cells = { ...stored };
    const timers: number[] = [];
    const refire: Window[] = [];
    let placed = false;
    if (this.assigner.kind === 'session') {
      const proto = assignWindows(this.assigner, ts)[0]!;
      const live = Object.keys(cells).map(parseWindowId);
      const { merged, absorbed } = mergeSession(live, proto);
      const where = placement(merged, wm, this.lateness);
      if (where !== 'expired') {
        placed = true;
        let cell: Cell | undefined;
        for (const w of absorbed) {
          cell = cell === undefined ? cells[windowId(w)] : this.merge(cell, cells[windowId(w)]!);
          delete cells[windowId(w)];
        }
        cells[windowId(merged)] = this.add(cell, value);
        // A merged window already past its end fires now; its timer is then the cleanup one.
        timers.push(where === 'late-refire' ? maxTimestamp(merged) + this.lateness : maxTimestamp(merged));
        if (where === 'late-refire') refire.push(merged);
      }
    } else {
      for (const w of assignWindows(this.assigner, ts)) {
        const where = placement(w, wm, this.lateness);
        if (where === 'expired') continue;
        placed = true;
        const id = windowId(w);
        if (!cells[id]) timers.push(where === 'late-refire' ? maxTimestamp(w) + this.lateness : maxTimestamp(w));
        const early = cells[id] ? null : this.firstEarly(w, wm);
        if (early !== null) timers.push(early);
        cells[id] = this.add(cells[id], value);
        if (where === 'late-refire') refire.push(w);
      }
    }
    if (!placed) return null;
    const outputs = refire.flatMap((w) => this.results(w, cells[windowId(w)]!, encodedKey));
    return { cells, timers, outputs };
  }

  /** Fires and clears every window whose timer the watermark has reached. */
  onWatermark(wm: number): void {
    this.timers.fireDue(wm, (time, encodedKey, group) => this.onTimer(time, encodedKey, group));
  }

  /**
   * Processing time passed `time`: early firings in processing time fire each key's open
   * windows that were due, keeping them, and the key's next one follows at the next multiple
   * of earlyEvery (aligned to the epoch, as Flink's ContinuousProcessingTimeTrigger).
   */
  onProcessingTime(time: number): void {
    this.processingTimers.fireDue(time, (_due, encodedKey, group) => {
      const cells = this.io.ws.get<Record<string, Cell>>(stateKeys.windowCells(this.name, group, encodedKey));
      if (!cells || Object.keys(cells).length === 0) return;
      for (const id of Object.keys(cells)) this.fire(parseWindowId(id), cells[id]!, encodedKey);
      if (time < Number.MAX_SAFE_INTEGER) this.processingTimers.schedule(this.nextTick(time), encodedKey, group);
    });
  }

  private nextTick(time: number): number {
    const every = this.earlyEvery!;
    return Math.floor(time / every) * every + every;
  }

  /** A new window's first early firing in event time: the first point after the watermark, before its end. */
  private firstEarly(w: Window, wm: number): number | null {
    const every = this.earlyEvery;
    if (every === undefined || this.earlyIn !== 'event-time') return null;
    const k = Math.max(1, Math.floor((wm - w.start + 1) / every) + 1);
    const at = w.start + k * every - 1;
    return at < maxTimestamp(w) ? at : null;
  }

  /** Whether `time` is one of window `w`'s early firings. */
  private isEarly(w: Window, time: number): boolean {
    const every = this.earlyEvery;
    return every !== undefined && this.earlyIn === 'event-time' && time < maxTimestamp(w) && time >= w.start + every - 1 && (time - w.start + 1) % every === 0;
  }

  private onTimer(time: number, encodedKey: string, group: number): void {
    const key = stateKeys.windowCells(this.name, group, encodedKey);
    const cells = { ...(this.io.ws.get<Record<string, Cell>>(key) ?? {}) };
    for (const id of Object.keys(cells)) {
      const w = parseWindowId(id);
      const end = maxTimestamp(w);
      if (this.isEarly(w, time)) {
        // An early firing keeps the window; the next one follows (this round, if already reached).
        this.fire(w, cells[id]!, encodedKey);
        if (time + this.earlyEvery! < end) this.timers.schedule(time + this.earlyEvery!, encodedKey, group);
      } else if (end === time) {
        this.fire(w, cells[id]!, encodedKey);
        if (this.lateness > 0) this.timers.schedule(end + this.lateness, encodedKey, group);
        else delete cells[id];
      } else if (this.lateness > 0 && end + this.lateness === time) {
        delete cells[id];
      }
    }
    if (Object.keys(cells).length === 0) this.io.ws.delete(key);
    else this.io.ws.set(key, cells);
  }

  private onLate(value: unknown, ts: number): void {
    if (this.dropLate) {
      const counter = stateKeys.counter(this.name, 'lateDropped');
      this.io.ws.set(counter, (this.io.ws.get<number>(counter) ?? 0) + 1);
    } else {
      this.io.late(value, ts);
    }
  }

  private add(cell: Cell | undefined, value: unknown): Cell {
    const fn = this.fn;
    switch (fn.kind) {
      case 'reduce':
        return { a: cell === undefined ? value : fn.fn(this.own((cell as AccumulatorCell).a), value) };
      case 'aggregate':
        return { a: fn.add(cell === undefined ? fn.create() : this.own((cell as AccumulatorCell).a), value) };
      case 'process':
        return { e: [...(cell === undefined ? [] : (cell as ElementsCell).e), value] };
    }
  }

  private merge(a: Cell, b: Cell): Cell {
    const fn = this.fn;
    const own = this.own;
    switch (fn.kind) {
      case 'reduce':
        return { a: fn.fn(own((a as AccumulatorCell).a), own((b as AccumulatorCell).a)) };
      case 'aggregate':
        return { a: fn.merge!(own((a as AccumulatorCell).a), own((b as AccumulatorCell).a)) };
      case 'process':
        return { e: [...(a as ElementsCell).e, ...(b as ElementsCell).e] };
    }
  }

  /** A window fired by the watermark: its results go on; a function that throws fails over. */
  private fire(w: Window, cell: Cell, encodedKey: string): void {
    let outputs: [unknown, number][];
    try {
      outputs = this.results(w, cell, encodedKey);
    } catch (e) {
      throw UserFunctionError.threw(this.name, e, { window: w, key: decodeKey(encodedKey) });
    }
    for (const [v, at] of outputs) this.io.next(v, at);
  }

  /** What window `w` emits when it fires, computed before any of it is passed on. */
  private results(w: Window, cell: Cell, encodedKey: string): [unknown, number][] {
    const fn = this.fn;
    const ts = maxTimestamp(w);
    switch (fn.kind) {
      case 'reduce':
        return [[(cell as AccumulatorCell).a, ts]];
      case 'aggregate':
        return [[fn.result((cell as AccumulatorCell).a, decodeKey(encodedKey), w), ts]];
      case 'process': {
        const out: [unknown, number][] = [];
        fn.fn(decodeKey(encodedKey), w, (cell as ElementsCell).e, (v) => void out.push([v, ts]));
        return out;
      }
    }
  }
}

const fail = (error: UserFunctionError): never => {
  throw error;
};
