/**
 * The jobs the simulation runs, named for `--topology`. Each one says how to compare its
 * committed output with the sequential evaluation. Rolling results that depend on the
 * arrival order of records from different channels are compared in an order-independent
 * form (per key: the running counts 1..n, and the final sum), which still catches every
 * duplicate and every loss.
 */
import { collect, generator, job, session, sliding, tumbling, type JobOptions, type Window } from '../lib/api/index.js';
import type { WindowAssigner } from '../lib/core/windows.js';
import type { CheckpointMode } from '../lib/core/config.js';
import type { JobGraph } from '../lib/core/graph.js';
import { randomInt, type Random } from '../lib/core/rng.js';
import type { ParallelismOverrides } from '../lib/core/topology.js';

export interface SimTopology {
  readonly name: string;
  build(options: { mode: CheckpointMode; random: Random }): JobGraph;
  /** The sinks whose committed output is checked. */
  readonly sinks: readonly string[];
  /** Parallelism a restore may switch to (rescaling), besides keeping the current one. */
  readonly rescale?: readonly ParallelismOverrides[];
  /** Canonical form of a record, order-independent; `final` marks the last update of a key. */
  canonical(records: unknown[]): string[];
  /** At-least-once: violations if something expected is missing. */
  atLeastOnce(expected: unknown[], actual: unknown[]): string[];
}

function settings(mode: CheckpointMode, random: Random): JobOptions {
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
    },
    restartStrategy: { type: 'fixed-delay', attempts: 1_000_000, delay: 1000 },
  };
}

interface Event {
  readonly id: number;
  readonly key: string;
  readonly value: number;
}

const event = (i: number, random: Random): Event => ({ id: i, key: `k${randomInt(random, 0, 6)}`, value: randomInt(random, 1, 100) });

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
function canonicalCounts(records: unknown[]): string[] {
  const finalN = new Map<string, number>();
  for (const r of records as Count[]) finalN.set(r.key, Math.max(finalN.get(r.key) ?? 0, r.n));
  return (records as Count[]).map((r) => (r.n === finalN.get(r.key) ? `${r.key}#${r.n}=${r.sum}` : `${r.key}#${r.n}`));
}

function countsAtLeastOnce(expected: unknown[], actual: unknown[]): string[] {
  const max = (rs: unknown[]) => {
    const m = new Map<string, number>();
    for (const r of rs as Count[]) m.set(r.key, Math.max(m.get(r.key) ?? 0, r.n));
    return m;
  };
  const got = max(actual);
  return [...max(expected)].filter(([k, n]) => (got.get(k) ?? 0) < n).map(([k, n]) => `key ${k} counted ${got.get(k) ?? 0} < ${n}`);
}

const countReducer = {
  create: () => ({ key: '', n: 0, sum: 0 }),
  add: (acc: Count, e: Event): Count => ({ key: e.key, n: acc.n + 1, sum: acc.sum + e.value }),
  result: (acc: Count) => acc,
};

export const TOPOLOGIES: Record<string, SimTopology> = {
  chain: {
    name: 'chain',
    sinks: ['out'],
    build({ mode, random }) {
      const j = job('simchain', { ...settings(mode, random), parallelism: 2 });
      j.source('src', generator({ count: randomInt(random, 30, 120), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 4), make: event }))
        .map('triple', (e) => ({ ...e, value: e.value * 3 }), { parallelism: 3 })
        .filter('even', (e) => e.value % 2 === 0, { parallelism: 3 })
        .flatMap('split', (e) => [e, { ...e, id: -e.id }], { parallelism: 3 })
        .map('tag', (e) => `${e.id}:${e.key}:${e.value}`, { parallelism: 2 })
        .sink('out', collect(), { parallelism: 2 });
      return j.build();
    },
    canonical: (records) => records.map(String),
    atLeastOnce(expected, actual) {
      const have = new Set(actual.map(String));
      return expected.map(String).filter((e) => !have.has(e)).map((e) => `missing ${e}`);
    },
  },
  rescale: {
    name: 'rescale',
    sinks: ['out'],
    rescale: [{ count: 3 }, { count: 2 }],
    build({ mode, random }) {
      const j = job('simrescale', { ...settings(mode, random), parallelism: 2 });
      j.source('src', generator({ count: randomInt(random, 30, 120), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 4), make: event }))
        .keyBy((e) => e.key)
        .aggregate('count', countReducer)
        .sink('out', collect());
      return j.build();
    },
    canonical: canonicalCounts,
    atLeastOnce: countsAtLeastOnce,
  },
  fanin: {
    name: 'fanin',
    sinks: ['out'],
    build({ mode, random }) {
      const j = job('simfanin', { ...settings(mode, random), parallelism: 2 });
      const a = j.source('a', generator({ count: randomInt(random, 20, 80), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 4), make: event }));
      const b = j.source('b', generator({ count: randomInt(random, 20, 80), seed: randomInt(random, 0, 1e6), batchSize: randomInt(random, 1, 3), make: (i, r) => ({ ...event(i, r), id: 1000 + i }) }), { parallelism: 1 });
      a.union(b)
        .keyBy((e) => e.key)
        .aggregate('count', countReducer)
        .sink('out', collect());
      return j.build();
    },
    canonical: canonicalCounts,
    atLeastOnce: countsAtLeastOnce,
  },
  tumbling: windowed('tumbling', (r) => tumbling(randomInt(r, 3, 8) * 100)),
  sliding: windowed('sliding', (r) => {
    const slide = randomInt(r, 2, 4) * 100;
    return sliding(slide * randomInt(r, 1, 3), slide);
  }),
  session: windowed('session', (r) => session(randomInt(r, 2, 5) * 100)),
};

/**
 * Event-time windows per key over out-of-order events with some records later than the
 * allowed lateness, which go to a second sink. One source subtask, so the watermark, and so
 * which records are late, is the same in every run and in the sequential evaluation.
 */
function windowed(name: string, assigner: (random: Random) => WindowAssigner): SimTopology {
  return {
    name,
    sinks: ['out', 'late'],
    rescale: [{ win: 3 }, { win: 2 }],
    build({ mode, random }) {
      const j = job(`sim${name}`, { ...settings(mode, random), parallelism: 2 });
      const spacing = 50;
      const lateEvery = randomInt(random, 5, 15);
      const events = j.source(
        'src',
        generator({
          count: randomInt(random, 40, 120),
          seed: randomInt(random, 0, 1e6),
          batchSize: randomInt(random, 1, 4),
          make: event,
          // Mostly a little out of order; every few records one far behind (late).
          timestamp: (i) => i * spacing - (i % lateEvery === 0 ? 1500 : (i * 7919) % 160),
        }),
        { parallelism: 1, watermarks: { outOfOrderness: 150 } },
      );
      const result = events
        .keyBy((e) => e.key)
        .window(assigner(random), { allowedLateness: randomInt(random, 0, 1) * 200, late: 'side-output' })
        .aggregate('win', {
          create: () => ({ n: 0, sum: 0 }),
          add: (a: { n: number; sum: number }, e) => ({ n: a.n + 1, sum: a.sum + e.value }),
          merge: (a, b) => ({ n: a.n + b.n, sum: a.sum + b.sum }),
          result: (a, key, w: Window) => `${key}@${w.start}-${w.end}:${a.n}/${a.sum}`,
        });
      result.sink('out', collect(), { parallelism: 1 });
      result.lateRecords().sink('late', collect(), { parallelism: 1 });
      return j.build();
    },
    canonical: (records) => records.map((r) => JSON.stringify(r)),
    atLeastOnce(expected, actual) {
      const have = new Set(actual.map((r) => JSON.stringify(r)));
      return expected.map((r) => JSON.stringify(r)).filter((e) => !have.has(e)).map((e) => `missing ${e}`);
    },
  };
}
