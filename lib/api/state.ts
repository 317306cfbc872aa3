/**
 * Keyed state a `process` function declares, Flink-style: `valueState<V>()`,
 * `mapState<K, V>()`, `listState<V>()`, `reducingState<V>(reduce)` and
 * `aggregatingState({ create, add, result })`. State is scoped to the current key. Values must be JSON values; after
 * changing an object in place, call `update` (or `put`) again so the change is persisted.
 */
import type { OutputTag } from './output-tag.js';
import type { TimeDomain, TimerService } from '../core/graph.js';
import type { Key } from '../core/keygroups.js';

/**
 * Time-to-live of keyed state (Flink's StateTtlConfig), on one of two clocks. `eventTime`:
 * what was written at t — the record's time, or the watermark when the call has none — is
 * gone once the watermark reaches t + that many ms. `processingTime`: written at the
 * operator's recorded processing time (TimerService), gone once it reaches t + that many ms.
 * Map entries and list elements each expire on their own. Expired state is never read back
 * and is cleaned up by a timer per key, without a scan.
 */
export type StateTtlOptions = ({ readonly eventTime: number; readonly processingTime?: undefined } | { readonly processingTime: number; readonly eventTime?: undefined }) & {
  /** 'read-and-write' renews on reads too (Flink's OnReadAndWrite). @default 'write' */
  readonly updateOn?: 'write' | 'read-and-write';
};

/** Options of a keyed state descriptor. */
export interface StateOptions {
  /** @default none: state lives until cleared */
  readonly ttl?: StateTtlOptions;
}

export interface ValueStateDescriptor<V> {
  readonly kind: 'value';
  readonly ttl?: StateTtlOptions;
  /** Phantom: carries the value type. */
  readonly __value?: V;
}

export interface MapStateDescriptor<K extends Key, V> {
  readonly kind: 'map';
  readonly ttl?: StateTtlOptions;
  readonly __key?: K;
  readonly __value?: V;
}

export interface ListStateDescriptor<V> {
  readonly kind: 'list';
  readonly ttl?: StateTtlOptions;
  readonly __list?: V;
}

/** Operator state of a non-keyed function: a list every subtask of a restore gets whole
 *  (Flink's union list state); plain `listState` is split evenly over them. */
export interface UnionListStateDescriptor<V> {
  readonly kind: 'union';
  readonly __list?: V;
}

/** Values added are folded into one with `reduce` (Flink's ReducingState). */
export interface ReducingStateDescriptor<V> {
  readonly kind: 'reducing';
  readonly ttl?: StateTtlOptions;
  readonly reduce: (a: V, b: V) => V;
}

/** Values added go into an accumulator; `get` gives its result (Flink's AggregatingState). */
export interface AggregatingStateDescriptor<IN, ACC, OUT> {
  readonly kind: 'aggregating';
  readonly ttl?: StateTtlOptions;
  readonly create: () => ACC;
  readonly add: (acc: ACC, value: IN) => ACC;
  readonly result: (acc: ACC) => OUT;
}

export type StateDescriptor =
  | ValueStateDescriptor<unknown>
  | MapStateDescriptor<Key, unknown>
  | ListStateDescriptor<unknown>
  // `any`: a declaration of any value types must fit (the functions make them invariant).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  | ReducingStateDescriptor<any>
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  | AggregatingStateDescriptor<any, any, unknown>;

const withTtl = (options: StateOptions | undefined) => (options?.ttl === undefined ? {} : { ttl: options.ttl });

export const valueState = <V>(options?: StateOptions): ValueStateDescriptor<V> => ({ kind: 'value', ...withTtl(options) });
export const mapState = <K extends Key, V>(options?: StateOptions): MapStateDescriptor<K, V> => ({ kind: 'map', ...withTtl(options) });
export const listState = <V>(options?: StateOptions): ListStateDescriptor<V> => ({ kind: 'list', ...withTtl(options) });
export const unionListState = <V>(): UnionListStateDescriptor<V> => ({ kind: 'union' });
export const reducingState = <V>(reduce: (a: V, b: V) => V, options?: StateOptions): ReducingStateDescriptor<V> => ({ kind: 'reducing', reduce, ...withTtl(options) });
export const aggregatingState = <IN, ACC, OUT>(
  fns: { create: () => ACC; add: (acc: ACC, value: IN) => ACC; result: (acc: ACC) => OUT },
  options?: StateOptions,
): AggregatingStateDescriptor<IN, ACC, OUT> => ({
  kind: 'aggregating',
  create: fns.create,
  add: fns.add,
  result: fns.result,
  ...withTtl(options),
});

export interface ValueState<V> {
  /** The current key's value, or undefined. */
  value(): V | undefined;
  update(value: V): void;
  clear(): void;
}

export interface MapState<K extends Key, V> {
  get(key: K): V | undefined;
  put(key: K, value: V): void;
  remove(key: K): void;
  contains(key: K): boolean;
  keys(): K[];
  values(): V[];
  entries(): [K, V][];
  isEmpty(): boolean;
  clear(): void;
}

export interface ListState<V> {
  /** The current key's values in the order added; empty when none. */
  get(): V[];
  add(value: V): void;
  addAll(values: V[]): void;
  /** Replaces the list. */
  update(values: V[]): void;
  clear(): void;
}

export interface ReducingState<V> {
  /** The reduction of every value added for the current key, or undefined. */
  get(): V | undefined;
  add(value: V): void;
  clear(): void;
}

export interface AggregatingState<IN, OUT> {
  /** The result of the current key's accumulator, or undefined before the first add. */
  get(): OUT | undefined;
  add(value: IN): void;
  clear(): void;
}

/** Every descriptor, operator state's union list included: what StateHandles maps. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStateDescriptor = StateDescriptor | UnionListStateDescriptor<any>;

export type StateHandles<S extends Record<string, AnyStateDescriptor>> = {
  [N in keyof S]: S[N] extends MapStateDescriptor<infer K, infer V>
    ? MapState<K, V>
    : S[N] extends ListStateDescriptor<infer V> | UnionListStateDescriptor<infer V>
      ? ListState<V>
      : S[N] extends ReducingStateDescriptor<infer V>
        ? ReducingState<V>
        : S[N] extends AggregatingStateDescriptor<infer IN, infer _ACC, infer OUT>
          ? AggregatingState<IN, OUT>
          : S[N] extends ValueStateDescriptor<infer V>
            ? ValueState<V>
            : never;
};

export interface KeyedProcessContext<K, S extends Record<string, StateDescriptor>, R> {
  readonly key: K;
  /** Event time of the current record, when it has one. */
  readonly timestamp: number | undefined;
  readonly state: StateHandles<S>;
  emit(value: R, timestamp?: number): void;
  /** Emits to a side output the function lists in `sideOutputs` (Flink's ctx.output). */
  output<O>(tag: OutputTag<O>, value: O, timestamp?: number): void;
  /** The current key's timers: `onTimer` runs when the watermark, or the recorded processing
   *  time, reaches one. */
  readonly timerService: TimerService;
  /** In `onTimer`: whether an event-time or a processing-time timer fired. */
  readonly timeDomain?: TimeDomain;
}
