/**
 * What the simulated topologies share: the shape of a topology, the job settings every one
 * runs with, the generated events, and the order-independent comparison of running counts
 * per key (the running counts 1..n, and the sum only at the final count), which still
 * catches every duplicate and every loss.
 */
import type { JobOptions } from '../lib/api/index.js';
import type { MemoryPorts } from '../lib/adapters/memory/index.js';
import type { CheckpointMode } from '../lib/core/config.js';
import type { JobGraph } from '../lib/core/graph.js';
import { randomInt, type Random } from '../lib/core/rng.js';
import type { ParallelismOverrides } from '../lib/core/topology.js';

/** A job to simulate, with the input it reads written beforehand when it reads files or logs. */
export interface SimJob {
  readonly graph: JobGraph;
  readonly prepare?: (ports: Pick<MemoryPorts, 'blobs' | 'logs' | 'streams'>) => Promise<void>;
  /** Input lines the job's sources must dead-letter. */
  readonly deadLetters?: number;
  /** This run's canonical form, when its options make the topology's too strict (results the
   *  evaluation cannot have, such as early firings in processing time). */
  readonly canonical?: (records: unknown[]) => string[];
}

export interface SimTopology {
  readonly name: string;
  build(options: { mode: CheckpointMode; random: Random }): SimJob;
  /** The sinks whose committed output is checked. */
  readonly sinks: readonly string[];
  /** Parallelism a restore may switch to (rescaling), besides keeping the current one. */
  readonly rescale?: readonly ParallelismOverrides[];
  /** Canonical form of a record, order-independent; `final` marks the last update of a key. */
  canonical(records: unknown[]): string[];
  /** At-least-once: violations if something expected is missing. */
  atLeastOnce(expected: unknown[], actual: unknown[]): string[];
}

export function settings(mode: CheckpointMode, random: Random): JobOptions {
  return {
    maxParallelism: 8,
    bufferBytes: 4096,
    checkpoints: {
      interval: 2000,
      timeout: 20_000,
      mode,
      maxConcurrentCheckpoints: randomInt(random, 1, 2),
      tolerableFailedCheckpoints: randomInt(random, 0, 3),
      retained: randomInt(random, 1, 2),
      // Short chains, so that full snapshots, chain limits and the retention of shared
      // objects all happen within a run (1: every snapshot whole).
      fullSnapshotEvery: randomInt(random, 1, 5),
    },
    restartStrategy: { type: 'fixed-delay', attempts: 1_000_000, delay: 1000 },
  };
}

export interface Event {
  readonly id: number;
  readonly key: string;
  readonly value: number;
}

export const event = (i: number, random: Random): Event => ({ id: i, key: `k${randomInt(random, 0, 6)}`, value: randomInt(random, 1, 100) });

/** Multiset difference, both ways, in a short human-readable form. */
export function diff(expected: string[], actual: string[]): string[] {
  const count = new Map<string, number>();
  for (const e of expected) count.set(e, (count.get(e) ?? 0) + 1);
  for (const a of actual) count.set(a, (count.get(a) ?? 0) - 1);
  const out: string[] = [];
  for (const [k, n] of count) {
    if (n > 0) out.push(`missing ${n}× ${k}`);
    if (n < 0) out.push(`extra ${-n}× ${k}`);
  }
  return out.sort();
}

interface Count {
  readonly key: string;
  readonly n: number;
  readonly sum: number;
}

/** Running counts per key are order-independent; the sum only at the final count. */
export function canonicalCounts(records: unknown[]): string[] {
  const finalN = new Map<string, number>();
  for (const r of records as Count[]) finalN.set(r.key, Math.max(finalN.get(r.key) ?? 0, r.n));
  return (records as Count[]).map((r) => (r.n === finalN.get(r.key) ? `${r.key}#${r.n}=${r.sum}` : `${r.key}#${r.n}`));
}

export function countsAtLeastOnce(expected: unknown[], actual: unknown[]): string[] {
  const max = (rs: unknown[]) => {
    const m = new Map<string, number>();
    for (const r of rs as Count[]) m.set(r.key, Math.max(m.get(r.key) ?? 0, r.n));
    return m;
  };
  const got = max(actual);
  return [...max(expected)].filter(([k, n]) => (got.get(k) ?? 0) < n).map(([k, n]) => `key ${k} counted ${got.get(k) ?? 0} < ${n}`);
}

export const countReducer = {
  create: () => ({ key: '', n: 0, sum: 0 }),
  add: (acc: Count, e: Event): Count => ({ key: e.key, n: acc.n + 1, sum: acc.sum + e.value }),
  result: (acc: Count) => acc,
};
