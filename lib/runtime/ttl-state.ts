/**
 * Keyed state with a time-to-live (graph.ts StateTtl), over the working state. What is
 * stored is stamped `{ v, t }` — a map entry and a list element each on its own — with the
 * time of the write on the ttl's clock (`TtlClock`: in event time the call's timestamp, or
 * the watermark when it has none; in processing time the recorded processing time); a stamp
 * is alive while t + ttl is above that clock's current time (the watermark's name below). Reads never see what is dead, and a
 * write schedules a cleanup timer for the key at t + ttl, when `expire` drops what died
 * (what was written again since lives on, its own timer later): no scan of the state.
 */
import type { StateDeclaration } from '../core/graph.js';
import { decodeKey, encodeKey } from '../core/keygroups.js';
import { touching, type StateJournal } from './keyed-state.js';
import type { WorkingState } from './working-state.js';

export interface TtlClock {
  /** The time a write stamps: the call's timestamp, or the watermark. */
  now(): number;
  watermark(): number;
  /** A cleanup timer for the current key at `time` (set once the call returned). */
  schedule(time: number): void;
}

interface Stamped {
  readonly v: unknown;
  readonly t: number;
}

type Ttl = NonNullable<StateDeclaration['ttl']>;

/** The handle of a declared state with a ttl: the same methods as without (keyed-state.ts). */
export function ttlStateHandle(ws: WorkingState, decl: StateDeclaration & { ttl: Ttl }, entry: () => string, journal: StateJournal | null, clock: TtlClock): unknown {
  const at = touching(entry, journal);
  const ttl = decl.ttl.ms;
  const renew = decl.ttl.updateOn === 'read-and-write';
  const alive = (s: Stamped | undefined): s is Stamped => s !== undefined && s.t + ttl > clock.watermark();
  const stamp = (v: unknown): Stamped => {
    const t = clock.now();
    clock.schedule(t + ttl);
    return { v, t };
  };
  /** A single value's stamp, alive, renewed by a read when asked. */
  const single = {
    read(): unknown {
      const key = at();
      const s = ws.get<Stamped>(key);
      if (!alive(s)) return undefined;
      if (renew) ws.set(key, stamp(s.v));
      return s.v;
    },
    write: (v: unknown) => (v === undefined ? ws.delete(at()) : ws.set(at(), stamp(v))),
    clear: () => ws.delete(at()),
  };
  switch (decl.kind) {
    case 'value':
      return { value: single.read, update: single.write, clear: single.clear };
    case 'reducing':
      return { get: single.read, add: (v: unknown) => single.write(((cur) => (cur === undefined ? v : decl.reduce(cur, v)))(single.read())), clear: single.clear };
    case 'aggregating':
      return {
        get: () => ((acc) => (acc === undefined ? undefined : decl.result(acc)))(single.read()),
        add: (v: unknown) => single.write(decl.add(single.read() ?? decl.create(), v)),
        clear: single.clear,
      };
    case 'map':
      return ttlMap(ws, at, alive, stamp, renew);
    case 'list':
    case 'union':
      return ttlList(ws, at, alive, stamp, renew);
  }
}

type Alive = (s: Stamped | undefined) => s is Stamped;

function ttlMap(ws: WorkingState, at: () => string, alive: Alive, stamp: (v: unknown) => Stamped, renew: boolean) {
  /** The live entries, written back without the dead ones; `renewing` (reads that renew) are stamped anew. */
  const live = (renewing: (k: string) => boolean = () => false): Record<string, Stamped> => {
    const key = at();
    const map = ws.get<Record<string, Stamped>>(key) ?? {};
    let changed = false;
    const kept: Record<string, Stamped> = {};
    for (const [k, s] of Object.entries(map)) {
      if (!alive(s)) changed = true;
      else if (renew && renewing(k)) [kept[k], changed] = [stamp(s.v), true];
      else kept[k] = s;
    }
    if (changed) write(kept);
    return kept;
  };
  const write = (map: Record<string, Stamped>) => (Object.keys(map).length === 0 ? ws.delete(at()) : ws.set(at(), map));
  const one = (k: unknown) => {
    const enc = encodeKey(k as never);
    return live((e) => e === enc)[enc];
  };
  const all = () => live(() => true);
  return {
    get: (k: unknown) => one(k)?.v,
    contains: (k: unknown) => one(k) !== undefined,
    put: (k: unknown, v: unknown) => write({ ...live(), [encodeKey(k as never)]: stamp(v) }),
    remove(k: unknown) {
      const map = live();
      delete map[encodeKey(k as never)];
      write(map);
    },
    keys: () => Object.keys(all()).map(decodeKey),
    values: () => Object.values(all()).map((s) => s.v),
    entries: () => Object.entries(all()).map(([k, s]) => [decodeKey(k), s.v] as [unknown, unknown]),
    isEmpty: () => Object.keys(live()).length === 0,
    clear: () => ws.delete(at()),
  };
}

function ttlList(ws: WorkingState, at: () => string, alive: Alive, stamp: (v: unknown) => Stamped, renew: boolean) {
  const live = (): Stamped[] => {
    const key = at();
    const list = ws.get<Stamped[]>(key) ?? [];
    const kept = list.filter(alive).map((s) => (renew ? stamp(s.v) : s));
    if (kept.length === 0) ws.delete(key);
    else if (renew || kept.length !== list.length) ws.set(key, kept);
    return kept;
  };
  const write = (list: Stamped[]) => (list.length === 0 ? ws.delete(at()) : ws.set(at(), list));
  return {
    get: () => live().map((s) => s.v),
    add: (v: unknown) => write([...live(), stamp(v)]),
    addAll: (vs: unknown[]) => write([...live(), ...vs.map(stamp)]),
    update: (vs: unknown[]) => write(vs.map(stamp)),
    clear: () => ws.delete(at()),
  };
}

/** A cleanup timer fired for the key whose entry is `key`: drops what died by `watermark`. */
export function expire(ws: WorkingState, decl: StateDeclaration & { ttl: Ttl }, key: string, watermark: number): void {
  const dead = (s: Stamped) => s.t + decl.ttl.ms <= watermark;
  const stored = ws.get<unknown>(key);
  if (stored === undefined) return;
  if (decl.kind === 'map') {
    const map = stored as Record<string, Stamped>;
    const kept = Object.entries(map).filter(([, s]) => !dead(s));
    if (kept.length === 0) ws.delete(key);
    else if (kept.length !== Object.keys(map).length) ws.set(key, Object.fromEntries(kept));
    return;
  }
  if (decl.kind === 'list' || decl.kind === 'union') {
    const kept = (stored as Stamped[]).filter((s) => !dead(s));
    if (kept.length === 0) ws.delete(key);
    else if (kept.length !== (stored as Stamped[]).length) ws.set(key, kept);
    return;
  }
  if (dead(stored as Stamped)) ws.delete(key);
}
