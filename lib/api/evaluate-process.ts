/**
 * The sequential evaluation of a keyed process function, of one input or two (connect: the
 * first input's records, then the second's, as inputs merge): its state in one ordinary map, its
 * side outputs, and its event-time timers, which fire — in time order, before the watermark
 * goes on — when the input's watermark reaches them, as the engine's do; a timer a firing
 * registers for a time already reached fires in the same round. A record's call that throws
 * is skipped whole (what it emitted is cut off again, its state restored by the journal, its
 * timer changes dropped); a timer's call that throws fails the evaluation, as it fails the
 * job over.
 */
import { UserFunctionError } from '../core/errors.js';
import { sideOutputPort, type OperatorSpec, type OutputPort, type ProcessContext, type StateDeclarations, type TimeDomain } from '../core/graph.js';
import { decodeKey, encodeKey } from '../core/keygroups.js';
import { MAX, MIN, type Event, type Input, type RecordOperatorOutput } from './evaluate-inputs.js';
import { ttlHandle, type EvaluationClock } from './evaluate-ttl.js';
import type { UserErrors } from './evaluate-user-errors.js';

type ProcessSpec = Extract<OperatorSpec, { kind: 'process' }>;

export function evaluateProcess(name: string, spec: ProcessSpec, input: readonly Input[], errors: UserErrors): RecordOperatorOutput {
  const out: Event[] = [];
  const side = new Map<OutputPort, Event[]>((spec.sideOutputs ?? []).map((tag) => [sideOutputPort(tag), []]));
  const state = new Map<string, unknown>();
  const journal = errors.skips ? new Journal(state) : null;
  const timers = new Map<number, string[]>();
  const processingTimers = new Map<number, string[]>();
  let watermark = MIN;
  let domain: TimeDomain | undefined;

  /** One call, for the key `encoded` at `timestamp` — or, for a broadcast record, for no key
   *  and subtask `copy`'s broadcast state: emits and timer changes kept apart until it returns. */
  const call = (encoded: string | null, timestamp: number | undefined, run: (ctx: ProcessContext) => void, copy = 0): void => {
    const emitted: [Event[], Event][] = [];
    const changes: [number, boolean, Map<number, string[]>][] = [];
    const noKey = (what: string) => () => {
      throw UserFunctionError.invalid(name, `processBroadcastElement has no key: ${what} belong to processElement and onTimer`, null);
    };
    // No processing time passes in the evaluation: what has a ttl on it never expires there.
    const clocks: Record<TimeDomain, EvaluationClock> = {
      'event-time': { now: () => timestamp ?? watermark, watermark: () => watermark },
      'processing-time': { now: () => MIN, watermark: () => MIN },
    };
    const keyed = encoded !== null ? processState(state, spec.state, encoded, journal, clocks) : null;
    const ctx: ProcessContext = {
      key: encoded === null ? undefined : decodeKey(encoded),
      timestamp,
      get state() {
        return keyed ?? noKey('keyed state')();
      },
      broadcastState: broadcastState(state, spec.broadcastState ?? [], copy, encoded === null, journal),
      emit: (value, ts) => void emitted.push([out, { kind: 'rec', value, ts: ts ?? timestamp }]),
      output: (tag, value, ts) => {
        const list = side.get(sideOutputPort(tag));
        if (!list) throw UserFunctionError.invalid(name, `emitted to side output ${JSON.stringify(tag)}, which it does not declare in sideOutputs`, null);
        emitted.push([list, { kind: 'rec', value, ts: ts ?? timestamp }]);
      },
      timerService: {
        currentWatermark: () => watermark,
        registerEventTimeTimer: encoded === null ? noKey('timers') : (t) => void changes.push([finite(name, t), true, timers]),
        deleteEventTimeTimer: encoded === null ? noKey('timers') : (t) => void changes.push([finite(name, t), false, timers]),
        // No processing time passes in the evaluation: its timers fire at the end of input.
        currentProcessingTime: () => MIN,
        registerProcessingTimeTimer: encoded === null ? noKey('timers') : (t) => void changes.push([finite(name, t), true, processingTimers]),
        deleteProcessingTimeTimer: encoded === null ? noKey('timers') : (t) => void changes.push([finite(name, t), false, processingTimers]),
      },
      timeDomain: domain,
    };
    journal?.begin();
    run(ctx);
    journal?.end();
    for (const [list, e] of emitted) list.push(e);
    for (const [t, register, kept] of changes) setTimer(kept, t, encoded!, register);
  };

  /** Fires `kept`'s timers up to `upTo`; a processing-time timer's output has no timestamp. */
  const fire = (kept: Map<number, string[]>, upTo: number, clock: TimeDomain) => {
    const onTimer = spec.onTimer;
    if (!onTimer) return;
    for (let due = nextDue(kept, upTo); due !== null; due = nextDue(kept, upTo)) {
      const keys = kept.get(due)!;
      kept.delete(due);
      for (const encoded of keys) {
        domain = clock;
        try {
          call(encoded, clock === 'event-time' ? due : undefined, (ctx) => onTimer(due, ctx));
        } catch (e) {
          throw UserFunctionError.threw(name, e, { timer: due, key: decodeKey(encoded) });
        } finally {
          domain = undefined;
        }
      }
    }
  };
  const fireTimers = (wm: number) => fire(timers, wm, 'event-time');

  for (const e of input) {
    if (e.kind === 'wm') {
      watermark = e.wm;
      fireTimers(e.wm);
      out.push({ kind: 'wm', wm: e.wm });
      for (const list of side.values()) list.push({ kind: 'wm', wm: e.wm });
      continue;
    }
    try {
      const fn = e.second ? spec.fn2! : spec.fn;
      if (e.copy !== undefined && spec.broadcastState) call(null, e.ts, (ctx) => fn(e.value, ctx), e.copy);
      else call(e.encoded!, e.ts, (ctx) => fn(e.value, ctx));
    } catch (error) {
      journal?.rollback();
      errors.reject(error, e.value);
    }
  }
  // The end of input: processing-time timers still waiting fire, as the engine's do.
  fire(processingTimers, MAX, 'processing-time');
  return { main: out, side };
}

function finite(name: string, t: unknown): number {
  if (typeof t !== 'number' || !Number.isFinite(t)) throw UserFunctionError.invalid(name, `a timer needs a finite time, got ${String(t)}`, null);
  return t;
}

function setTimer(timers: Map<number, string[]>, time: number, encoded: string, register: boolean): void {
  const keys = timers.get(time) ?? [];
  if (register && !keys.includes(encoded)) timers.set(time, [...keys, encoded]);
  if (!register && keys.includes(encoded)) {
    const rest = keys.filter((k) => k !== encoded);
    if (rest.length === 0) timers.delete(time);
    else timers.set(time, rest);
  }
}

function nextDue(timers: Map<number, string[]>, wm: number): number | null {
  let due: number | null = null;
  for (const t of timers.keys()) if (t <= wm && (due === null || t < due)) due = t;
  return due;
}

const ABSENT = Symbol('absent');

/** The state entries one process call touched, as they were before it: to undo the call
 *  (evaluate-operator-state.ts uses it too). */
export class Journal {
  private kept: Map<string, unknown> | null = null;

  constructor(private readonly store: Map<string, unknown>) {}

  begin(): void {
    this.kept = new Map();
  }

  /** Before the call first touches entry `id`. */
  keep(id: string): void {
    if (this.kept === null || this.kept.has(id)) return;
    this.kept.set(id, this.store.has(id) ? structuredClone(this.store.get(id)) : ABSENT);
  }

  end(): void {
    this.kept = null;
  }

  rollback(): void {
    for (const [id, value] of this.kept ?? []) {
      if (value === ABSENT) this.store.delete(id);
      else this.store.set(id, value);
    }
    this.kept = null;
  }
}

/** Subtask `copy`'s broadcast states, in the same store under their own ids (the journal
 *  covers them); read-only unless `writable`. Keyed records read copy 0's: all are equal. */
function broadcastState(store: Map<string, unknown>, names: readonly string[], copy: number, writable: boolean, journal: Journal | null): Record<string, unknown> {
  const maps = processState(store, Object.fromEntries(names.map((n) => [n, { kind: 'map' as const }])), `\u0001${copy}`, journal);
  if (writable) return maps;
  const readOnly: Record<string, unknown> = {};
  for (const [n, handle] of Object.entries(maps) as [string, Record<string, unknown>][]) {
    const { get, contains, keys, values, entries, isEmpty } = handle;
    readOnly[n] = { get, contains, keys, values, entries, isEmpty };
  }
  return readOnly;
}

function processState(store: Map<string, unknown>, declared: StateDeclarations, k: string, journal: Journal | null, clocks?: Record<TimeDomain, EvaluationClock>): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(declared)) {
    const id = `${name}\u0000${k}`;
    const touch = journal ? () => journal.keep(id) : () => {};
    // Written apart from the engine's handles (runtime/keyed-state.ts): this is the reference.
    const get = () => (touch(), store.get(id));
    const put = (v: unknown) => (touch(), v === undefined ? store.delete(id) : store.set(id, v));
    if (decl.ttl && clocks) {
      state[name] = ttlHandle({ ...decl, ttl: decl.ttl }, get, put, clocks[decl.ttl.domain]);
      continue;
    }
    if (decl.kind === 'list') {
      const list = () => (get() as unknown[] | undefined) ?? [];
      state[name] = {
        get: () => [...list()],
        add: (v: unknown) => put([...list(), v]),
        addAll: (vs: unknown[]) => put(vs.length === 0 && !store.has(id) ? undefined : [...list(), ...vs]),
        update: (vs: unknown[]) => put(vs.length === 0 ? undefined : [...vs]),
        clear: () => put(undefined),
      };
      continue;
    }
    if (decl.kind === 'reducing') {
      state[name] = { get, add: (v: unknown) => put(get() === undefined ? v : decl.reduce(get(), v)), clear: () => put(undefined) };
      continue;
    }
    if (decl.kind === 'aggregating') {
      state[name] = {
        get: () => (get() === undefined ? undefined : decl.result(get())),
        add: (v: unknown) => put(decl.add(get() === undefined ? decl.create() : get(), v)),
        clear: () => put(undefined),
      };
      continue;
    }
    if (decl.kind === 'value') {
      state[name] = {
        value: () => (touch(), store.get(id)),
        update: (v: unknown) => (touch(), store.set(id, v)),
        clear: () => (touch(), store.delete(id)),
      };
      continue;
    }
    const m = () => {
      touch();
      if (!store.has(id)) store.set(id, new Map<string, [unknown, unknown]>());
      return store.get(id) as Map<string, [unknown, unknown]>;
    };
    state[name] = {
      get: (mk: unknown) => m().get(encodeKey(mk))?.[1],
      put: (mk: unknown, v: unknown) => m().set(encodeKey(mk), [mk, v]),
      remove: (mk: unknown) => m().delete(encodeKey(mk)),
      contains: (mk: unknown) => m().has(encodeKey(mk)),
      keys: () => [...m().values()].map((x) => x[0]),
      values: () => [...m().values()].map((x) => x[1]),
      entries: () => [...m().values()],
      isEmpty: () => m().size === 0,
      clear: () => m().clear(),
    };
  }
  return state;
}
