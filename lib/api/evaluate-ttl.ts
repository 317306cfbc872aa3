/**
 * The sequential evaluation's keyed state with a time-to-live (graph.ts StateTtl), written
 * apart from the engine's (runtime/ttl-state.ts) since this is the reference: each value,
 * map entry and list element kept with the time it was written (or, with 'read-and-write',
 * last read), and seen only while that time plus the ttl is above the watermark. Nothing is
 * cleaned up here: what is dead is only never seen again, which is all a user can observe.
 */
import type { StateDeclaration } from '../core/graph.js';
import { encodeKey } from '../core/keygroups.js';

export interface EvaluationClock {
  /** What a write is stamped with: the call's timestamp, or the watermark. */
  now(): number;
  watermark(): number;
}

interface Kept {
  readonly value: unknown;
  readonly at: number;
}

type Ttl = NonNullable<StateDeclaration['ttl']>;

/** `get`/`put` read and write the raw entry of the current key (through the journal). */
export function ttlHandle(decl: StateDeclaration & { ttl: Ttl }, get: () => unknown, put: (v: unknown) => void, clock: EvaluationClock): unknown {
  const live = (k: Kept | undefined): k is Kept => k !== undefined && clock.watermark() < k.at + decl.ttl.ms;
  const renews = decl.ttl.updateOn === 'read-and-write';
  const keep = (value: unknown): Kept => ({ value, at: clock.now() });
  const read = (): unknown => {
    const k = get() as Kept | undefined;
    if (!live(k)) return undefined;
    if (renews) put(keep(k.value));
    return k.value;
  };
  const write = (v: unknown) => put(v === undefined ? undefined : keep(v));
  switch (decl.kind) {
    case 'value':
      return { value: read, update: write, clear: () => put(undefined) };
    case 'reducing':
      return { get: read, add: (v: unknown) => { const cur = read(); write(cur === undefined ? v : decl.reduce(cur, v)); }, clear: () => put(undefined) };
    case 'aggregating':
      return {
        get: () => { const acc = read(); return acc === undefined ? undefined : decl.result(acc); },
        add: (v: unknown) => { const acc = read(); write(decl.add(acc === undefined ? decl.create() : acc, v)); },
        clear: () => put(undefined),
      };
    case 'list':
    case 'union': {
      const items = (): Kept[] => ((get() as Kept[] | undefined) ?? []).filter(live);
      const store = (ks: Kept[]) => put(ks.length === 0 ? undefined : ks);
      return {
        get: () => {
          const ks = items();
          if (renews) store(ks.map((k) => keep(k.value)));
          return ks.map((k) => k.value);
        },
        add: (v: unknown) => store([...items(), keep(v)]),
        addAll: (vs: unknown[]) => store([...items(), ...vs.map(keep)]),
        update: (vs: unknown[]) => store(vs.map(keep)),
        clear: () => put(undefined),
      };
    }
    case 'map': {
      const entries = (): [string, [unknown, Kept]][] => [...((get() as Map<string, [unknown, Kept]> | undefined) ?? new Map()).entries()].filter(([, [, k]]) => live(k));
      const store = (es: [string, [unknown, Kept]][]) => put(es.length === 0 ? undefined : new Map(es));
      const renewed = (es: [string, [unknown, Kept]][], which: (id: string) => boolean) =>
        renews ? es.map(([id, [mk, k]]): [string, [unknown, Kept]] => [id, [mk, which(id) ? keep(k.value) : k]]) : es;
      const one = (mk: unknown) => {
        const id = encodeKey(mk as never);
        const es = renewed(entries(), (e) => e === id);
        if (renews) store(es);
        return es.find(([e]) => e === id)?.[1][1];
      };
      const all = () => {
        const es = renewed(entries(), () => true);
        if (renews) store(es);
        return es;
      };
      return {
        get: (mk: unknown) => one(mk)?.value,
        contains: (mk: unknown) => one(mk) !== undefined,
        put: (mk: unknown, v: unknown) => {
          const id = encodeKey(mk as never);
          const es = entries();
          const at = es.findIndex(([e]) => e === id);
          store(at < 0 ? [...es, [id, [mk, keep(v)]]] : es.map((e, i): [string, [unknown, Kept]] => (i === at ? [id, [mk, keep(v)]] : e)));
        },
        remove: (mk: unknown) => store(entries().filter(([id]) => id !== encodeKey(mk as never))),
        keys: () => all().map(([, [mk]]) => mk),
        values: () => all().map(([, [, k]]) => k.value),
        entries: () => all().map(([, [mk, k]]) => [mk, k.value]),
        isEmpty: () => entries().length === 0,
        clear: () => put(undefined),
      };
    }
  }
}
