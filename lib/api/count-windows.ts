/**
 * Count windows on a keyed stream (Flink's countWindow): `countWindow(size)` fires every
 * `size` records of a key over those records and starts over; `countWindow(size, slide)`
 * fires every `slide` records over the last `size` (fewer until that many came), as Flink's
 * count trigger with a count evictor does. Records of a window that never fills are not
 * emitted, as in Flink. A result carries the time of the record that fired it (Flink's
 * global window has no end to give it).
 *
 * Built as a keyed process function over list state, so snapshots, rescaling and replay are
 * the engine's own; what a window does when it fires is one of `reduce`, `aggregate` or a
 * `process` function that sees all of its records.
 */
import { ConfigError } from '../core/errors.js';
import type { Key } from '../core/keygroups.js';
import type { KeyedProcessFunction } from './process-function.js';
import { listState, valueState, type ListStateDescriptor, type ValueStateDescriptor } from './state.js';

export interface CountWindowSpec {
  readonly size: number;
  readonly slide: number;
}

/** `countWindow(size, slide)` checked: whole numbers from 1, slide at most size. */
export function countWindowSpec(size: number, slide: number = size): CountWindowSpec {
  for (const [name, v] of [['size', size], ['slide', slide]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new ConfigError(`countWindow.${name}`, `must be a whole number from 1, got ${String(v)}`);
  }
  if (slide > size) throw new ConfigError('countWindow.slide', `${slide} exceeds the size ${size}: records between windows would belong to none`);
  return { size, slide };
}

type Buffer<T> = { records: ListStateDescriptor<T>; seen: ValueStateDescriptor<number> };

/** The keyed process function of a count window; `fire` turns a window's records into what it emits. */
export function countWindowFunction<T, K extends Key, R>(
  { size, slide }: CountWindowSpec,
  fire: (key: K, records: T[], emit: (value: R) => void) => void,
): KeyedProcessFunction<T, K, Buffer<T>, R> {
  return {
    state: { records: listState<T>(), seen: valueState<number>() },
    processElement(value, ctx) {
      const records = [...ctx.state.records.get(), value].slice(-size);
      // Records of the key since its last firing.
      const seen = (ctx.state.seen.value() ?? 0) + 1;
      const fires = seen === slide;
      if (fires) ctx.state.seen.clear();
      else ctx.state.seen.update(seen);
      const keep = fires && slide === size ? [] : records;
      ctx.state.records.update(keep);
      if (fires) fire(ctx.key, records, (v) => ctx.emit(v));
    },
  };
}
