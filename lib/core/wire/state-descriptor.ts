/**
 * The body of `generations/<gen>/state-descriptor.json` (blobKeys.stateDescriptor): which
 * state each operator of a generation's job holds, by operator name (Flink's `uid`), with
 * each state's name and kind, the fingerprint of a keyed operator's key function and the
 * job's maxParallelism. A restore compares it with the job it is about to start
 * (core/state-compatibility.ts) before it touches any state, reading one small object
 * rather than the snapshots.
 *
 * It is written once per generation, by the restore that starts it: the descriptor is a
 * function of the job graph the generation runs, and every checkpoint of a generation is
 * taken by that graph, so a checkpoint's descriptor is its generation's (CheckpointRecord.gen).
 * Generations from before descriptors existed have none; see `checkStateCompatibility`.
 */
import { RestoreError } from '../errors.js';

/** One state an operator holds: `counts` (value), `acc` (reduce-accumulator), … */
export interface StateEntryDescriptor {
  readonly name: string;
  readonly kind: string;
}

export interface OperatorStateDescriptor {
  readonly name: string;
  /** The operator's kind in the graph: `source`, `window`, `process`, `sink`, … */
  readonly kind: string;
  /** Fingerprint of a keyed operator's key function (core/state-descriptor.ts); null when it has no keyed state. */
  readonly key: string | null;
  /** Empty for an operator that holds no state (map, filter, a print sink). */
  readonly states: readonly StateEntryDescriptor[];
}

export interface StateDescriptor {
  readonly v: 1;
  readonly job: string;
  readonly gen: number;
  readonly maxParallelism: number;
  /** In the graph's (topological) order. */
  readonly operators: readonly OperatorStateDescriptor[];
}

export const encodeStateDescriptor = (d: StateDescriptor): string =>
  JSON.stringify({
    v: d.v,
    job: d.job,
    gen: d.gen,
    maxParallelism: d.maxParallelism,
    operators: d.operators.map((o) => ({ name: o.name, kind: o.kind, key: o.key, states: o.states.map((s) => ({ name: s.name, kind: s.kind })) })),
  } satisfies StateDescriptor);

/** Parses a descriptor body read from `key`; one of another version or shape is a RestoreError naming the key. */
export function parseStateDescriptor(body: string, key: string): StateDescriptor {
  let d: Partial<StateDescriptor>;
  try {
    d = JSON.parse(body) as Partial<StateDescriptor>;
  } catch (e) {
    throw new RestoreError(`state descriptor ${key} is not JSON`, { cause: e });
  }
  const ok =
    d !== null &&
    typeof d === 'object' &&
    d.v === 1 &&
    typeof d.maxParallelism === 'number' &&
    Array.isArray(d.operators) &&
    d.operators.every((o) => typeof o?.name === 'string' && typeof o.kind === 'string' && Array.isArray(o.states));
  if (!ok) throw new RestoreError(`state descriptor ${key} has an unknown format`);
  return d as StateDescriptor;
}
