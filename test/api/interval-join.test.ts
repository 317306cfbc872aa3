/**
 * The interval join (Flink's intervalJoin … between … process): which pairs meet — bounds
 * inclusive, or exclusive when asked, negative bounds included — checked against the
 * definition; the pair's time; late records dropped, or sent to a side output; bad bounds refused; and the engine,
 * restored at another parallelism with records waiting on both sides, committing what the
 * sequential evaluation gives.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, outputTag } from '../../lib/api/index.js';
import type { IntervalJoined } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Side {
  readonly id: string;
  readonly key: number;
  readonly ts: number;
}
interface Pair {
  readonly l: string;
  readonly r: string;
  readonly at: number;
  readonly key: number;
}

const lefts: Side[] = Array.from({ length: 20 }, (_, i) => ({ id: `l${i}`, key: i % 2, ts: 10 * i }));
const rights: Side[] = Array.from({ length: 30 }, (_, j) => ({ id: `r${j}`, key: j % 2, ts: 7 * j }));

type Bounds = (joined: IntervalJoined<Side, Side, number>) => IntervalJoined<Side, Side, number>;

/** Both sides in time order, no out-of-orderness: no record is late. */
function joinJob(name: string, lower: number, upper: number, bounds: Bounds = (b) => b, right: Side[] = rights): JobGraph {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 } });
  const source = (records: Side[], batchSize: number) => generator({ count: records.length, batchSize, make: (i) => records[i]!, timestamp: (i) => records[i]!.ts });
  const watermarks = { outOfOrderness: 0 };
  const l = j.source('lefts', source(lefts, 2), { parallelism: 1, watermarks }).keyBy((s) => s.key);
  const r = j.source('rights', source(right, 3), { parallelism: 1, watermarks }).keyBy((s) => s.key);
  bounds(l.intervalJoin(r).between(lower, upper))
    .process<Pair>('join', (a, b, ctx, emit) => {
      expect(ctx.timestamp).toBe(Math.max(ctx.leftTimestamp, ctx.rightTimestamp));
      emit({ l: a.id, r: b.id, at: ctx.timestamp, key: ctx.key });
    })
    .sink('out', collect());
  return j.build();
}

/** The definition: same key, right time within [left + lower, left + upper]. */
function definition(lower: number, upper: number, lowerIn: boolean, upperIn: boolean): Pair[] {
  return lefts.flatMap((a) =>
    rights
      .filter((b) => b.key === a.key && (lowerIn ? b.ts >= a.ts + lower : b.ts > a.ts + lower) && (upperIn ? b.ts <= a.ts + upper : b.ts < a.ts + upper))
      .map((b) => ({ l: a.id, r: b.id, at: Math.max(a.ts, b.ts), key: a.key })),
  );
}

const joined = async (graph: JobGraph) => (await evaluateSequentially(graph)).sinks.get('out') as Pair[];

describe('interval join', () => {
  it.each([
    ['[-14, 14]', -14, 14, true, true, (b: IntervalJoined<Side, Side, number>) => b],
    ['(-14, 14)', -14, 14, false, false, (b: IntervalJoined<Side, Side, number>) => b.lowerBoundExclusive().upperBoundExclusive()],
    ['(0, 28]', 0, 28, false, true, (b: IntervalJoined<Side, Side, number>) => b.lowerBoundExclusive()],
    ['[-28, -14)', -28, -14, true, false, (b: IntervalJoined<Side, Side, number>) => b.upperBoundExclusive()],
    ['[0, 0]', 0, 0, true, true, (b: IntervalJoined<Side, Side, number>) => b],
  ])('joins exactly the pairs of %s, each once, at the later time', async (_name, lower, upper, lowerIn, upperIn, bounds) => {
    const expected = definition(lower, upper, lowerIn, upperIn);
    expect(expected.length).toBeGreaterThan(0);
    // Pairs exactly on each bound exist, so inclusive and exclusive differ at both.
    expect(sorted(expected)).not.toEqual(sorted(definition(lower, upper, !lowerIn, upperIn)));
    expect(sorted(expected)).not.toEqual(sorted(definition(lower, upper, lowerIn, !upperIn)));
    expect(sorted(await joined(joinJob('bounds', lower, upper, bounds)))).toEqual(sorted(expected));
  });

  it('drops a record behind the watermark when it arrives', async () => {
    // r-late (time 1) comes after the right side's watermark passed 100; it would join l0.
    const late = [...rights.filter((r) => r.ts <= 140), { id: 'r-late', key: 0, ts: 1 }];
    const pairs = await joined(joinJob('late', -5, 5, (b) => b, late));
    expect(pairs.some((p) => p.r === 'r-late')).toBe(false);
    expect(pairs.some((p) => p.l === 'l0')).toBe(true);
  });

  it('sends a late record to the side output named for its side, when one is', async () => {
    const late = [...rights.filter((r) => r.ts <= 140), { id: 'r-late', key: 0, ts: 1 }];
    const lateRights = outputTag<Side>('late-rights');
    const lateLefts = outputTag<Side>('late-lefts');
    const j = job('late-side', { parallelism: 2, checkpoints: { interval: 300 } });
    const source = (records: Side[], batchSize: number) => generator({ count: records.length, batchSize, make: (i) => records[i]!, timestamp: (i) => records[i]!.ts });
    const watermarks = { outOfOrderness: 0 };
    const l = j.source('lefts', source(lefts, 2), { parallelism: 1, watermarks }).keyBy((s) => s.key);
    const r = j.source('rights', source(late, 3), { parallelism: 1, watermarks }).keyBy((s) => s.key);
    const joined = l.intervalJoin(r).between(-5, 5).sideOutputLeftLateData(lateLefts).sideOutputRightLateData(lateRights).process('join', (a, b, _ctx, emit) => emit(`${a.id}+${b.id}`));
    joined.sink('out', collect());
    joined.getSideOutput(lateRights).sink('late-r', collect());
    joined.getSideOutput(lateLefts).sink('late-l', collect());
    const result = await evaluateSequentially(j.build());
    expect(result.sinks.get('late-r')).toEqual([{ id: 'r-late', key: 0, ts: 1 }]);
    expect(result.sinks.get('late-l')).toEqual([]);
    expect((result.sinks.get('out') as string[]).some((p) => p.includes('r-late'))).toBe(false);
  });

  it('restored at another parallelism with records waiting on both sides, the engine commits what the evaluation gives', async () => {
    const graph = joinJob('join-rescale', -20, 30);
    const world = await memoryWorld(graph);
    for (let i = 0; i < 12; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { join: 3 } });
    await world.runToEnd();
    expect(sorted(await world.committed('out'))).toEqual(sorted(definition(-20, 30, true, true)));
  });

  it('refuses bounds no record could meet, and bounds that are not whole numbers', () => {
    const keyed = () => {
      const j = job('bad-join');
      return j.source('a', generator({ count: 1, make: (i) => i })).keyBy((i) => i).intervalJoin(j.source('b', generator({ count: 1, make: (i) => i })).keyBy((i) => i));
    };
    const add = (b: IntervalJoined<number, number, number>) => b.process('j', () => {});
    expect(() => add(keyed().between(5, 1))).toThrow(ConfigError);
    expect(() => add(keyed().between(5, 1))).toThrow('intervalJoin.between: lower bound 5 is above upper bound 1');
    expect(() => add(keyed().between(1, 1).lowerBoundExclusive())).toThrow('lower bound 1 (exclusive) is above upper bound 1');
    expect(() => add(keyed().between(0.5, 1))).toThrow('intervalJoin.between.lower: must be a whole number of ms, got 0.5');
  });
});
