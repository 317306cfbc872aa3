/**
 * The interval join of two keyed streams in event time (Flink's KeyedStream.intervalJoin):
 * a left record at time t joins every right record of its key at a time in
 * [t + lower, t + upper] — both bounds inclusive unless made exclusive — and each pair is
 * emitted once, at the later of the two times.
 *
 * It is a two-input process function over the engine's keyed state and timers, as Flink's
 * IntervalJoinOperator is: each side's records wait in a map from timestamp to records; a
 * record joins the other side's waiting records in bounds and then waits itself until the
 * watermark passes the last time a record of the other side could still join it, when a
 * timer removes its bucket. A record behind the watermark when it arrives is late and
 * dropped (Flink's default), since what it would join may be gone — or sent to a side output.
 */
import { ConfigError } from '../core/errors.js';
import type { Key } from '../core/keygroups.js';
import type { KeyedCoProcessFunction } from './process-function.js';
import type { OutputTag } from './output-tag.js';
import { mapState, type KeyedProcessContext, type MapStateDescriptor } from './state.js';

/** What a join function gets besides the pair. */
export interface IntervalJoinContext<K> {
  readonly key: K;
  readonly leftTimestamp: number;
  readonly rightTimestamp: number;
  /** The pair's time: the later of the two. What `emit` emits carries it. */
  readonly timestamp: number;
}

export type ProcessJoinFunction<L, R, K, O> = (left: L, right: R, ctx: IntervalJoinContext<K>, emit: (value: O) => void) => void;

/** Where late records go instead of being dropped (Flink's sideOutputLeftLateData / sideOutputRightLateData). */
export interface LateOutputs<L, R> {
  readonly left?: OutputTag<L>;
  readonly right?: OutputTag<R>;
}

/** Inclusive bounds, relative to the left record's time, after any exclusivity. */
export interface IntervalBounds {
  readonly lower: number;
  readonly upper: number;
}

/** `between(lower, upper)` with Flink's exclusive variants, checked: a ConfigError names the bounds. */
export function intervalBounds(lower: number, upper: number, lowerExclusive: boolean, upperExclusive: boolean): IntervalBounds {
  for (const [name, v] of [['lower', lower], ['upper', upper]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v)) throw new ConfigError(`intervalJoin.between.${name}`, `must be a whole number of ms, got ${String(v)}`);
  }
  const bounds = { lower: lowerExclusive ? lower + 1 : lower, upper: upperExclusive ? upper - 1 : upper };
  if (bounds.lower > bounds.upper) {
    throw new ConfigError('intervalJoin.between', `lower bound ${lower}${lowerExclusive ? ' (exclusive)' : ''} is above upper bound ${upper}${upperExclusive ? ' (exclusive)' : ''}: no record could join`);
  }
  return bounds;
}

type Buffers<L, R> = { left: MapStateDescriptor<number, L[]>; right: MapStateDescriptor<number, R[]> };
type Ctx<L, R, K, O> = KeyedProcessContext<K, Buffers<L, R>, O>;

/** The two-input process function that joins `left` and `right` within `bounds`, calling `fn` per pair. */
export function intervalJoinFunction<L, R, K extends Key, O>(
  operator: string,
  { lower, upper }: IntervalBounds,
  fn: ProcessJoinFunction<L, R, K, O>,
  late: LateOutputs<L, R> = {},
): KeyedCoProcessFunction<L, R, K, Buffers<L, R>, O> {
  const timeOf = (ctx: Ctx<L, R, K, O>): number | null => {
    const ts = ctx.timestamp;
    if (ts === undefined) throw new Error(`interval join ${operator} needs event time: give both sources a timestamp and watermarks`);
    return ts < ctx.timerService.currentWatermark() ? null : ts;
  };
  const join = (ctx: Ctx<L, R, K, O>, left: L, leftTs: number, right: R, rightTs: number) => {
    const timestamp = Math.max(leftTs, rightTs);
    fn(left, right, { key: ctx.key, leftTimestamp: leftTs, rightTimestamp: rightTs, timestamp }, (value) => ctx.emit(value, timestamp));
  };
  const tags = [late.left, late.right].filter((t): t is OutputTag<never> => t !== undefined);
  return {
    state: { left: mapState<number, L[]>(), right: mapState<number, R[]>() },
    ...(tags.length > 0 ? { sideOutputs: tags } : {}),
    processElement1(left, ctx) {
      const ts = timeOf(ctx);
      if (ts === null) {
        if (late.left) ctx.output(late.left, left);
        return;
      }
      ctx.state.left.put(ts, [...(ctx.state.left.get(ts) ?? []), left]);
      for (const [rightTs, rights] of ctx.state.right.entries()) {
        if (rightTs < ts + lower || rightTs > ts + upper) continue;
        for (const right of rights) join(ctx, left, ts, right, rightTs);
      }
      ctx.timerService.registerEventTimeTimer(upper > 0 ? ts + upper : ts);
    },
    processElement2(right, ctx) {
      const ts = timeOf(ctx);
      if (ts === null) {
        if (late.right) ctx.output(late.right, right);
        return;
      }
      ctx.state.right.put(ts, [...(ctx.state.right.get(ts) ?? []), right]);
      for (const [leftTs, lefts] of ctx.state.left.entries()) {
        if (leftTs < ts - upper || leftTs > ts - lower) continue;
        for (const left of lefts) join(ctx, left, leftTs, right, ts);
      }
      ctx.timerService.registerEventTimeTimer(lower < 0 ? ts - lower : ts);
    },
    // A time is the cleanup time of at most one bucket per side: remove both candidates.
    onTimer(at, ctx) {
      ctx.state.left.remove(upper > 0 ? at - upper : at);
      ctx.state.right.remove(lower < 0 ? at + lower : at);
    },
  };
}
