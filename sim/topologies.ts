/**
 * The jobs the simulation runs, named for `--topology`. Each one says how to compare its
 * committed output with the sequential evaluation. Rolling results that depend on the
 * arrival order of records from different channels are compared in an order-independent
 * form (per key: the running counts 1..n, and the final sum), which still catches every
 * duplicate and every loss.
 */
import { collect, dynamoSink, generator, job, logSource, s3Sink, s3Source, session, sliding, tumbling, valueState, type JobOptions, type Window } from '../lib/api/index.js';
import type { Ports } from '../lib/ports/index.js';
import type { WindowAssigner } from '../lib/core/windows.js';
import type { CheckpointMode } from '../lib/core/config.js';
import type { JobGraph } from '../lib/core/graph.js';
import { randomFor, randomInt, type Random } from '../lib/core/rng.js';
import type { ParallelismOverrides } from '../lib/core/topology.js';

/** A job to simulate, with the input it reads written beforehand when it reads files or logs. */
export interface SimJob {
  readonly graph: JobGraph;
  readonly prepare?: (ports: Pick<Ports, 'blobs' | 'logs'>) => Promise<void>;
  /** Input lines the job's sources must dead-letter. */
  readonly deadLetters?: number;
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
      return { graph: j.build() };
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
      return { graph: j.build() };
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
      return { graph: j.build() };
    },
    canonical: canonicalCounts,
    atLeastOnce: countsAtLeastOnce,
  },
  tumbling: windowed('tumbling', 'files', 's3', (r) => tumbling(randomInt(r, 3, 8) * 100)),
  sliding: windowed('sliding', 'log', 'collect', (r) => {
    const slide = randomInt(r, 2, 4) * 100;
    return sliding(slide * randomInt(r, 1, 3), slide);
  }),
  session: windowed('session', 'generator', 'dynamodb', (r) => session(randomInt(r, 2, 5) * 100)),
  poison: poisoned(),
};

interface Timed extends Event {
  readonly ts: number;
}

/**
 * Event-time windows per key over out-of-order events with some records later than the
 * allowed lateness, which go to a second sink. One source subtask, so the watermark, and so
 * which records are late, is the same in every run and in the sequential evaluation. The
 * events come from a generator, from NDJSON objects (with malformed lines the source must
 * dead-letter), or from a bounded log; the results go to the collect, S3 or DynamoDB sink.
 */
function windowed(name: string, input: 'generator' | 'files' | 'log', output: 'collect' | 's3' | 'dynamodb', assigner: (random: Random) => WindowAssigner): SimTopology {
  return {
    name,
    sinks: ['out', 'late'],
    rescale: [{ win: 3 }, { win: 2 }],
    build({ mode, random }) {
      const j = job(`sim${name}`, { ...settings(mode, random), parallelism: 2 });
      const lateEvery = randomInt(random, 5, 15);
      const count = randomInt(random, 40, 120);
      const seed = randomInt(random, 0, 1e6);
      const batchSize = randomInt(random, 1, 4);
      const events = outOfOrder(count, seed, lateEvery);
      let prepare: SimJob['prepare'];
      let deadLetters = 0;
      let source;
      if (input === 'generator') {
        source = j.source('src', timedSource(events, seed, batchSize), { parallelism: 1, watermarks });
      } else if (input === 'files') {
        const lines = events.map((e) => JSON.stringify(e));
        const bad = ['{"id": broken', JSON.stringify({ id: -1, key: 'k1', value: 1 })]; // not JSON; no timestamp
        for (const b of bad) lines.splice(randomInt(random, 0, lines.length), 0, b);
        deadLetters = bad.length;
        const cut = randomInt(random, 1, lines.length - 1);
        prepare = async (ports) => {
          await ports.blobs.put(`jobs/sim${name}/input/a.ndjson`, lines.slice(0, cut).join('\n') + '\n');
          await ports.blobs.put(`jobs/sim${name}/input/b.ndjson`, lines.slice(cut).join('\n'));
        };
        source = j.source('src', s3Source<Timed>({ prefix: 'input/', batchSize, timestamp: (e) => e.ts }), { parallelism: 1, watermarks });
      } else {
        const partitions = randomInt(random, 1, 2);
        deadLetters = 1;
        prepare = async (ports) => {
          const byPartition = Array.from({ length: partitions }, (_, q) => events.filter((_, i) => i % partitions === q).map((e) => JSON.stringify(e)));
          byPartition[0]!.splice(1, 0, 'not json at all');
          for (let q = 0; q < partitions; q++) await ports.logs.append(`sim${name}`, 'events', q, byPartition[q]!);
        };
        source = j.source('src', logSource<Timed>({ log: 'events', partitions, batchSize, bounded: true, timestamp: (e) => e.ts }), { parallelism: 1, watermarks });
      }
      const result = source
        .keyBy((e) => e.key)
        .window(assigner(random), { allowedLateness: randomInt(random, 0, 1) * 200, late: 'side-output' })
        .aggregate('win', {
          create: () => ({ n: 0, sum: 0 }),
          add: (a: { n: number; sum: number }, e) => ({ n: a.n + 1, sum: a.sum + e.value }),
          merge: (a, b) => ({ n: a.n + b.n, sum: a.sum + b.sum }),
          result: (a, key, w: Window) => ({ window: `${key}@${w.start}-${w.end}`, n: a.n, sum: a.sum }),
        });
      const sink =
        output === 's3' ? s3Sink<WindowCount>({ prefix: 'output/' }) : output === 'dynamodb' ? dynamoSink<WindowCount>({ key: (r) => r.window }) : collect<WindowCount>();
      result.sink('out', sink, { parallelism: 1 });
      result.lateRecords().sink('late', collect(), { parallelism: 1 });
      return { graph: j.build(), ...(prepare ? { prepare } : {}), deadLetters };
    },
    canonical: (records) => records.map((r) => JSON.stringify(r)),
    atLeastOnce: windowsAtLeastOnce,
  };
}

/** Mostly a little out of order (less than the watermarks' 150); every few records one far behind (late). */
function outOfOrder(count: number, seed: number, lateEvery: number): Timed[] {
  const ts = (i: number) => i * 50 - (i % lateEvery === 0 ? 1500 : (i * 7919) % 160);
  return Array.from({ length: count }, (_, i) => ({ ...event(i, randomFor(seed, i)), ts: ts(i) }));
}

const watermarks = { outOfOrderness: 150 };
const timedSource = (events: Timed[], seed: number, batchSize: number) =>
  generator({ count: events.length, seed, batchSize, make: (i) => events[i]!, timestamp: (i) => events[i]!.ts });

/** Replays without alignment may count a record twice, never zero times: every expected
 *  window result (and every late record) has an actual one at least as large. */
function windowsAtLeastOnce(expected: unknown[], actual: unknown[]): string[] {
  const key = (r: unknown) => (r as Partial<WindowCount>).window ?? JSON.stringify(r);
  const best = new Map<string, number>();
  for (const r of actual) best.set(key(r), Math.max(best.get(key(r)) ?? -1, (r as Partial<WindowCount>).n ?? 0));
  return expected.filter((r) => (best.get(key(r)) ?? -1) < ((r as Partial<WindowCount>).n ?? 0)).map((r) => `missing ${JSON.stringify(r)}`);
}

/**
 * A job with `onUserError: 'dead-letter'` and a few poison records, each one thrown on at
 * one place: the map chained to the source, the key selector (no key: dropped at both keyed
 * consumers), a keyed process function after it changed its state in place and emitted, and
 * a window's add after it changed its accumulator copy. The skipped records must leave no
 * trace in state or output and exactly one dead letter each, through every fault. Poison
 * records are never far behind, so the window does not see them as late, and calls add.
 */
function poisoned(): SimTopology {
  return {
    name: 'poison',
    sinks: ['counts', 'out', 'late'],
    rescale: [{ count: 3, win: 3 }, { count: 1, win: 2 }],
    build({ mode, random }) {
      const j = job('simpoison', { ...settings(mode, random), parallelism: 2, onUserError: 'dead-letter' });
      const lateEvery = randomInt(random, 5, 15);
      const count = randomInt(random, 30, 70);
      const seed = randomInt(random, 0, 1e6);
      const events = outOfOrder(count, seed, lateEvery);
      const candidates = events.filter((e) => e.id % lateEvery !== 0).map((e) => e.id);
      const take = (n: number) => new Set(candidates.splice(randomInt(random, 0, candidates.length - n), n));
      const [atMap, noKey, atProcess, atWindow] = [take(randomInt(random, 1, 2)), take(1), take(randomInt(random, 1, 2)), take(randomInt(random, 1, 2))];
      const key = (e: Timed) => (noKey.has(e.id) ? null : e.key) as string;
      const parsed = j.source('src', timedSource(events, seed, randomInt(random, 1, 4)), { parallelism: 1, watermarks }).map(
        'parse',
        (e) => {
          if (atMap.has(e.id)) throw new Error(`poison ${e.id} at parse`);
          return e;
        },
        { parallelism: 1 },
      );
      parsed
        .keyBy(key)
        .process('count', {
          state: { total: valueState<{ key: string; n: number; sum: number }>() },
          processElement(e, ctx) {
            const total = ctx.state.total.value() ?? { key: e.key, n: 0, sum: 0 };
            total.n++; // in place: the journal must put it back when the call throws
            total.sum += e.value;
            ctx.state.total.update(total);
            ctx.emit({ ...total });
            if (atProcess.has(e.id)) throw new Error(`poison ${e.id} at count`);
          },
        })
        .sink('counts', collect());
      const assigners = [tumbling(randomInt(random, 3, 8) * 100), sliding(400, 200), session(randomInt(random, 2, 4) * 100)];
      const result = parsed
        .keyBy(key)
        .window(assigners[randomInt(random, 0, 2)]!, { allowedLateness: randomInt(random, 0, 1) * 200, late: 'side-output' })
        .aggregate('win', {
          create: () => ({ n: 0, sum: 0 }),
          add: (a: { n: number; sum: number }, e) => {
            a.n++; // the copy it was given: the window keeps its accumulator
            a.sum += e.value;
            if (atWindow.has(e.id)) throw new Error(`poison ${e.id} at win`);
            return a;
          },
          merge: (a, b) => ({ n: a.n + b.n, sum: a.sum + b.sum }),
          result: (a, k, w: Window) => ({ window: `${k}@${w.start}-${w.end}`, n: a.n, sum: a.sum }),
        });
      result.sink('out', collect(), { parallelism: 1 });
      result.lateRecords().sink('late', collect(), { parallelism: 1 });
      // One dead letter per operator and record: a record without a key is one at each consumer.
      return { graph: j.build(), deadLetters: atMap.size + 2 * noKey.size + atProcess.size + atWindow.size };
    },
    canonical: (records) => (records.some(isCount) ? canonicalCounts(records) : records.map((r) => JSON.stringify(r))),
    atLeastOnce: (expected, actual) => (expected.some(isCount) ? countsAtLeastOnce(expected, actual) : windowsAtLeastOnce(expected, actual)),
  };
}

const isCount = (r: unknown) => typeof r === 'object' && r !== null && 'key' in r && 'n' in r;

interface WindowCount {
  readonly window: string;
  readonly n: number;
  readonly sum: number;
}
