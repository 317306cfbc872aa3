/**
 * The event-time topologies of the simulation: windows per key over out-of-order events
 * (`tumbling`, `sliding`, `session`), and `poison`, whose user functions throw on a few
 * records that `onUserError: 'dead-letter'` must skip without a trace. Their results are
 * compared as window results, the poison job's running counts as in topology-support.ts.
 */
import { collect, dynamoSink, generator, job, logSource, s3Sink, s3Source, session, sliding, tumbling, valueState, type Window } from '../lib/api/index.js';
import type { WindowAssigner } from '../lib/core/windows.js';
import { randomFor, randomInt, type Random } from '../lib/core/rng.js';
import type { JobName } from '../lib/core/ids.js';
import { blobKeys } from '../lib/core/wire/storage-keys.js';
import { canonicalCounts, countsAtLeastOnce, event, settings, type Event, type SimJob, type SimTopology } from './topology-support.js';

export interface Timed extends Event {
  readonly ts: number;
}

/**
 * Event-time windows per key over out-of-order events with some records later than the
 * allowed lateness, which go to a second sink; tumbling and sliding ones with early firings in
 * half the runs. One source subtask, so the watermark, and so
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
          const input = (file: string) => blobKeys.jobObject(`sim${name}` as JobName, `input/${file}`);
          await ports.blobs.put(input('a.ndjson'), lines.slice(0, cut).join('\n') + '\n');
          await ports.blobs.put(input('b.ndjson'), lines.slice(cut).join('\n'));
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
      const windows = assigner(random);
      // Tumbling and sliding windows fire early in event time in a third of the runs (sessions
      // cannot), every kind in processing time in another third: those firings depend on the
      // run, so only each window's last result is compared then.
      const earlyIn = randomInt(random, 0, 2);
      const early =
        earlyIn === 1 && windows.kind !== 'session'
          ? { earlyFiringEvery: randomInt(random, 50, windows.size - 1) }
          : earlyIn === 2
            ? { earlyFiringEvery: randomInt(random, 100, 2000), earlyFiringIn: 'processing-time' as const }
            : {};
      const result = source
        .keyBy((e) => e.key)
        .window(windows, { allowedLateness: randomInt(random, 0, 1) * 200, late: 'side-output', ...early })
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
      return { graph: j.build(), ...(prepare ? { prepare } : {}), deadLetters, ...(earlyIn === 2 ? { canonical: lastResults } : {}) };
    },
    canonical: (records) => records.map((r) => JSON.stringify(r)),
    atLeastOnce: windowsAtLeastOnce,
  };
}

/** Each window's last result (the one holding the most records), leaving out sessions an
 *  early firing saw before they merged into a larger one; other records as they are. */
function lastResults(records: unknown[]): string[] {
  const last = new Map<string, WindowCount>();
  const others: string[] = [];
  for (const r of records as WindowCount[]) {
    if (typeof r?.window !== 'string') others.push(JSON.stringify(r));
    else if ((last.get(r.window)?.n ?? -1) < r.n) last.set(r.window, r);
  }
  const span = (id: string) => {
    const m = /^(.*)@(-?\d+)-(-?\d+)$/.exec(id)!;
    return { key: m[1]!, start: Number(m[2]), end: Number(m[3]) };
  };
  const windows = [...last.keys()].map((id) => ({ id, ...span(id) }));
  const absorbed = (w: (typeof windows)[number]) => windows.some((o) => o.id !== w.id && o.key === w.key && o.start <= w.start && w.end <= o.end);
  return [...others, ...windows.filter((w) => !absorbed(w)).map((w) => JSON.stringify(last.get(w.id)))];
}

/** Mostly a little out of order (less than the watermarks' 150); every few records one far behind (late). */
export function outOfOrder(count: number, seed: number, lateEvery: number): Timed[] {
  const ts = (i: number) => i * 50 - (i % lateEvery === 0 ? 1500 : (i * 7919) % 160);
  return Array.from({ length: count }, (_, i) => ({ ...event(i, randomFor(seed, i)), ts: ts(i) }));
}

export const watermarks = { outOfOrderness: 150 };
export const timedSource = (events: Timed[], seed: number, batchSize: number) =>
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

/** Listed in `TOPOLOGIES` (topologies.ts) after the plain topologies, in this order. */
export const WINDOWED_TOPOLOGIES: Record<string, SimTopology> = {
  tumbling: windowed('tumbling', 'files', 's3', (r) => tumbling(randomInt(r, 3, 8) * 100)),
  sliding: windowed('sliding', 'log', 'collect', (r) => {
    const slide = randomInt(r, 2, 4) * 100;
    return sliding(slide * randomInt(r, 1, 3), slide);
  }),
  session: windowed('session', 'generator', 'dynamodb', (r) => session(randomInt(r, 2, 5) * 100)),
  poison: poisoned(),
};
