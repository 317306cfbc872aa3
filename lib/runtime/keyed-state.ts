/**
 * Keyed state: the key of a record, the state a `process` function gets (ValueState,
 * MapState) over the working state, and the journal that can undo one call of it.
 *
 * With `onUserError: 'dead-letter'` a process call that throws is skipped as if it had never
 * run, yet it may have updated state before throwing — or changed in place an object it
 * read. So while a call runs, the journal keeps a copy of every entry the call touches,
 * reads included, the first time it touches it; a call that throws puts the copies back.
 * Without the option there is no journal and no copying: a failure fails the invocation,
 * and its working state is thrown away.
 */
import { preview, UserFunctionError } from '../core/errors.js';
import { decodeKey, encodeKey, type Key } from '../core/keygroups.js';
import type { StateDeclaration } from '../core/graph.js';
import type { WorkingState } from './working-state.js';

/**
 * The key `selector` gives `value`, the input of keyed operator `operator`. A selector that
 * throws, or returns what cannot be a key, is that operator's error on that record.
 */
export function keyOf(selector: (value: unknown) => unknown, value: unknown, operator: string): Key {
  let key: unknown;
  try {
    key = selector(value);
  } catch (e) {
    throw UserFunctionError.threw(operator, e, { record: value }, 'keyBy');
  }
  if (typeof key === 'string' || (typeof key === 'number' && Number.isFinite(key))) return key;
  const shown = typeof key === 'number' ? String(key) : typeof key === 'function' ? 'a function' : preview(key, 100);
  throw UserFunctionError.invalid(operator, `keyBy returned ${shown}`, { record: value }, new TypeError('a key must be a string or a finite number'));
}

const ABSENT = Symbol('absent');

export class StateJournal {
  private kept: Map<string, unknown> | null = null;

  constructor(private readonly ws: WorkingState) {}

  /** A call begins: entries are kept from now on. */
  begin(): void {
    this.kept = new Map();
  }

  /** Before the call first touches `key`: keep a copy of its entry. */
  keep(key: string): void {
    if (this.kept === null || this.kept.has(key)) return;
    const value = this.ws.get(key);
    this.kept.set(key, value === undefined ? ABSENT : structuredClone(value));
  }

  /** The call returned: its changes stand. */
  end(): void {
    this.kept = null;
  }

  /** The call threw: every entry it touched is back as it was. */
  rollback(): void {
    for (const [key, value] of this.kept ?? []) {
      if (value === ABSENT) this.ws.delete(key);
      else this.ws.set(key, value);
    }
    this.kept = null;
  }
}

/** `entry` is the current key's entry key; `journal` is null when calls are never undone. */
export function valueState(ws: WorkingState, entry: () => string, journal: StateJournal | null) {
  const at = touching(entry, journal);
  return {
    value: () => ws.get(at()),
    update: (v: unknown) => {
      const key = at();
      if (v === undefined) ws.delete(key);
      else ws.set(key, v);
    },
    clear: () => ws.delete(at()),
  };
}

export function mapState(ws: WorkingState, entry: () => string, journal: StateJournal | null) {
  const at = touching(entry, journal);
  const read = () => ws.get<Record<string, unknown>>(at());
  return {
    get: (k: unknown) => read()?.[encodeKey(k)],
    contains: (k: unknown) => read()?.[encodeKey(k)] !== undefined,
    put(k: unknown, v: unknown) {
      const key = at();
      const map = ws.get<Record<string, unknown>>(key) ?? {};
      map[encodeKey(k)] = v;
      ws.set(key, map);
    },
    remove(k: unknown) {
      const key = at();
      const map = ws.get<Record<string, unknown>>(key);
      if (!map) return;
      delete map[encodeKey(k)];
      if (Object.keys(map).length === 0) ws.delete(key);
      else ws.touch(key);
    },
    keys: () => Object.keys(read() ?? {}).map(decodeKey),
    values: () => Object.values(read() ?? {}),
    entries: () => Object.entries(read() ?? {}).map(([k, v]) => [decodeKey(k), v] as [unknown, unknown]),
    isEmpty: () => Object.keys(read() ?? {}).length === 0,
    clear: () => ws.delete(at()),
  };
}

/** The entry key, kept by the journal (when there is one) before it is used. */
export function touching(entry: () => string, journal: StateJournal | null): () => string {
  if (journal === null) return entry;
  return () => {
    const key = entry();
    journal.keep(key);
    return key;
  };
}

export function listState(ws: WorkingState, entry: () => string, journal: StateJournal | null) {
  const at = touching(entry, journal);
  const read = (key: string) => ws.get<unknown[]>(key);
  const append = (values: readonly unknown[]) => {
    if (values.length === 0) return;
    const key = at();
    const list = read(key) ?? [];
    list.push(...values);
    ws.set(key, list);
  };
  return {
    // A copy: changing it does not change the state (update does).
    get: () => [...(read(at()) ?? [])],
    add: (v: unknown) => append([v]),
    addAll: (vs: unknown[]) => append(vs),
    update(vs: unknown[]) {
      const key = at();
      if (vs.length === 0) ws.delete(key);
      else ws.set(key, [...vs]);
    },
    clear: () => ws.delete(at()),
  };
}

export function reducingState(ws: WorkingState, entry: () => string, journal: StateJournal | null, reduce: (a: unknown, b: unknown) => unknown) {
  const at = touching(entry, journal);
  return {
    get: () => ws.get(at()),
    add(v: unknown) {
      const key = at();
      const current = ws.get(key);
      ws.set(key, current === undefined ? v : reduce(current, v));
    },
    clear: () => ws.delete(at()),
  };
}

export function aggregatingState(
  ws: WorkingState,
  entry: () => string,
  journal: StateJournal | null,
  fns: { create: () => unknown; add: (acc: unknown, v: unknown) => unknown; result: (acc: unknown) => unknown },
) {
  const at = touching(entry, journal);
  return {
    get() {
      const acc = ws.get(at());
      return acc === undefined ? undefined : fns.result(acc);
    },
    add(v: unknown) {
      const key = at();
      const acc = ws.get(key);
      ws.set(key, fns.add(acc === undefined ? fns.create() : acc, v));
    },
    clear: () => ws.delete(at()),
  };
}

/** The handle of one declared state over the working state. */
export function stateHandle(ws: WorkingState, decl: StateDeclaration, entry: () => string, journal: StateJournal | null): unknown {
  switch (decl.kind) {
    case 'value':
      return valueState(ws, entry, journal);
    case 'map':
      return mapState(ws, entry, journal);
    case 'list':
      return listState(ws, entry, journal);
    case 'reducing':
      return reducingState(ws, entry, journal, decl.reduce);
    case 'aggregating':
      return aggregatingState(ws, entry, journal, decl);
  }
}
