/**
 * The sequential evaluation of the record-at-a-time operators: map, filter, flatMap, and
 * keyed reduce, aggregate and process with their state in one ordinary map.
 *
 * A call that throws is the operator's user error (see evaluate-user-errors.ts). When the
 * record is skipped it must leave nothing behind, as in the engine: what the call emitted is
 * cut off the output again (a flatMap that yielded some values, a process function that
 * emitted before it threw), reduce and aggregate hand the function a copy of the
 * accumulator and keep the old one, and a process call's state entries are restored by a
 * journal that copied each one the first time the call touched it, reads included (the call
 * may change in place an object it read).
 */
import { InvariantError, UserFunctionError } from '../core/errors.js';
import { sideOutputPort, type OperatorNode, type OutputPort, type StateDeclarations } from '../core/graph.js';
import { encodeKey } from '../core/keygroups.js';
import type { Event, Input } from './evaluate-inputs.js';
import type { UserErrors } from './evaluate-user-errors.js';

/** An operator's output: its main stream and, for a process function, each side output
 *  (watermarks included, as the engine sends them on every output channel). */
export interface RecordOperatorOutput {
  readonly main: Event[];
  readonly side: Map<OutputPort, Event[]>;
}

export function applyRecordOperator(op: OperatorNode, input: readonly Input[], errors: UserErrors): RecordOperatorOutput {
  const spec = op.spec;
  if (!RECORD_KINDS.has(spec.kind)) throw new InvariantError(`cannot evaluate ${spec.kind} here`);
  const { own, reject } = errors;
  const out: Event[] = [];
  const side = new Map<OutputPort, Event[]>((spec.kind === 'process' ? (spec.sideOutputs ?? []) : []).map((tag) => [sideOutputPort(tag), []]));
  const state = new Map<string, unknown>();
  const journal = errors.skips && spec.kind === 'process' ? new Journal(state) : null;
  for (const e of input) {
    if (e.kind === 'wm') {
      out.push({ kind: 'wm', wm: e.wm });
      for (const list of side.values()) list.push({ kind: 'wm', wm: e.wm });
      continue;
    }
    const emit = (value: unknown, ts = e.ts) => out.push({ kind: 'rec', value, ts });
    const output = (tag: string, value: unknown, ts = e.ts) => {
      const list = side.get(sideOutputPort(tag));
      if (!list) throw UserFunctionError.invalid(op.name, `emitted to side output ${JSON.stringify(tag)}, which it does not declare in sideOutputs`, null);
      list.push({ kind: 'rec', value, ts });
    };
    const emitted = out.length;
    const sideEmitted = [...side.values()].map((l) => l.length);
    try {
      switch (spec.kind) {
        case 'map':
          emit(spec.fn(e.value));
          break;
        case 'filter':
          if (spec.fn(e.value)) emit(e.value);
          break;
        case 'flatMap':
          for (const v of spec.fn(e.value)) emit(v);
          break;
        case 'reduce': {
          const k = e.encoded!;
          const next = state.has(k) ? spec.fn(own(state.get(k)), e.value) : e.value;
          state.set(k, next);
          emit(next);
          break;
        }
        case 'aggregate': {
          const k = e.encoded!;
          const next = spec.add(state.has(k) ? own(state.get(k)) : spec.create(), e.value);
          const result = spec.result(next, e.key);
          state.set(k, next);
          emit(result);
          break;
        }
        case 'process': {
          journal?.begin();
          const ctx = { key: e.key, timestamp: e.ts, state: processState(state, spec.state, e.encoded!, journal), emit: (v: unknown, ts?: number) => emit(v, ts ?? e.ts), output: (tag: string, v: unknown, ts?: number) => output(tag, v, ts ?? e.ts) };
          spec.fn(e.value, ctx);
          journal?.end();
          break;
        }
      }
    } catch (error) {
      // Only user functions throw above: reduce and aggregate store nothing before theirs
      // return, and what a process call changed is in the journal.
      out.length = emitted;
      [...side.values()].forEach((l, i) => (l.length = sideEmitted[i]!));
      journal?.rollback();
      reject(error, e.value);
    }
  }
  return { main: out, side };
}

const RECORD_KINDS: ReadonlySet<string> = new Set(['map', 'filter', 'flatMap', 'reduce', 'aggregate', 'process']);
const ABSENT = Symbol('absent');

/** The state entries one process call touched, as they were before it: to undo the call. */
class Journal {
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

function processState(store: Map<string, unknown>, declared: StateDeclarations, k: string, journal: Journal | null): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(declared)) {
    const id = `${name}\u0000${k}`;
    const touch = journal ? () => journal.keep(id) : () => {};
    // Written apart from the engine's handles (runtime/keyed-state.ts): this is the reference.
    const get = () => (touch(), store.get(id));
    const put = (v: unknown) => (touch(), v === undefined ? store.delete(id) : store.set(id, v));
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
