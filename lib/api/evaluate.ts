/**
 * Plain sequential evaluation of a job: every source read to its end in one pass, every
 * operator applied in order with keyed state in ordinary maps, no queues, no checkpoints.
 * It is the reference the simulation and `npm start` compare a distributed run against,
 * and it is written independently of the runtime so that it can disagree with it.
 * Sources must be bounded. Union inputs are read one after another.
 */
import type { JobGraph, OperatorNode } from '../core/graph.js';
import { encodeKey } from '../core/keygroups.js';

export interface Evaluation {
  /** Every record each sink received, by sink name. */
  readonly sinks: Map<string, unknown[]>;
  /** Records read from all sources. */
  readonly sourceRecords: number;
}

export async function evaluateSequentially(graph: JobGraph): Promise<Evaluation> {
  const outputs = new Map<string, unknown[]>();
  const sinks = new Map<string, unknown[]>();
  let sourceRecords = 0;
  for (const op of graph.operators) {
    const input: { value: unknown; from: OperatorNode['inputs'][number] }[] = [];
    for (const i of op.inputs) for (const value of outputs.get(i.from)!) input.push({ value, from: i });
    const out: unknown[] = [];
    const spec = op.spec;
    const keyOf = (from: OperatorNode['inputs'][number], v: unknown) =>
      from.partitioning.type === 'hash' ? from.partitioning.key(v) : undefined;
    switch (spec.kind) {
      case 'source': {
        for (let subtask = 0; subtask < op.parallelism; subtask++) {
          let offset = spec.reader.start(subtask, op.parallelism);
          for (;;) {
            const batch = await spec.reader.read(subtask, op.parallelism, offset, 10_000);
            out.push(...batch.values);
            sourceRecords += batch.values.length;
            offset = batch.next;
            if (batch.finished) break;
            if (batch.values.length === 0) throw new Error(`source ${op.name} is unbounded: cannot evaluate it sequentially`);
          }
        }
        break;
      }
      case 'map':
        for (const { value } of input) out.push(spec.fn(value));
        break;
      case 'filter':
        for (const { value } of input) if (spec.fn(value)) out.push(value);
        break;
      case 'flatMap':
        for (const { value } of input) out.push(...spec.fn(value));
        break;
      case 'reduce': {
        const acc = new Map<string, unknown>();
        for (const { value, from } of input) {
          const k = encodeKey(keyOf(from, value));
          const next = acc.has(k) ? spec.fn(acc.get(k), value) : value;
          acc.set(k, next);
          out.push(next);
        }
        break;
      }
      case 'aggregate': {
        const acc = new Map<string, unknown>();
        for (const { value, from } of input) {
          const key = keyOf(from, value);
          const k = encodeKey(key);
          const next = spec.add(acc.has(k) ? acc.get(k) : spec.create(), value);
          acc.set(k, next);
          out.push(spec.result(next, key));
        }
        break;
      }
      case 'process': {
        const stores = new Map<string, Map<string, unknown>>();
        for (const { value, from } of input) {
          const key = keyOf(from, value);
          const k = encodeKey(key);
          const state: Record<string, unknown> = {};
          for (const [name, decl] of Object.entries(spec.state)) {
            const id = `${name}\u0000${k}`;
            if (decl.kind === 'value') {
              state[name] = {
                value: () => stores.get('v')?.get(id),
                update: (v: unknown) => bucket(stores, 'v').set(id, v),
                clear: () => bucket(stores, 'v').delete(id),
              };
            } else {
              const m = () => {
                const b = bucket(stores, 'm');
                if (!b.has(id)) b.set(id, new Map());
                return b.get(id) as Map<string, [unknown, unknown]>;
              };
              state[name] = {
                get: (mk: unknown) => m().get(encodeKey(mk))?.[1],
                put: (mk: unknown, v: unknown) => m().set(encodeKey(mk), [mk, v]),
                remove: (mk: unknown) => m().delete(encodeKey(mk)),
                contains: (mk: unknown) => m().has(encodeKey(mk)),
                keys: () => [...m().values()].map((e) => e[0]),
                values: () => [...m().values()].map((e) => e[1]),
                entries: () => [...m().values()],
                isEmpty: () => m().size === 0,
                clear: () => m().clear(),
              };
            }
          }
          spec.fn(value, { key, timestamp: undefined, state, emit: (v) => out.push(v) });
        }
        break;
      }
      case 'sink':
        sinks.set(op.name, input.map((i) => i.value));
        break;
    }
    outputs.set(op.name, out);
  }
  return { sinks, sourceRecords };
}

function bucket(stores: Map<string, Map<string, unknown>>, name: string): Map<string, unknown> {
  let b = stores.get(name);
  if (!b) stores.set(name, (b = new Map()));
  return b;
}
