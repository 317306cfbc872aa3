/**
 * Keyed state a `process` function declares, Flink-style: `valueState<V>()` and
 * `mapState<K, V>()`. State is scoped to the current key. Values must be JSON values; after
 * changing an object in place, call `update` (or `put`) again so the change is persisted.
 */
import type { OutputTag } from './process-function.js';
import type { Key } from '../core/keygroups.js';

export interface ValueStateDescriptor<V> {
  readonly kind: 'value';
  /** Phantom: carries the value type. */
  readonly __value?: V;
}

export interface MapStateDescriptor<K extends Key, V> {
  readonly kind: 'map';
  readonly __key?: K;
  readonly __value?: V;
}

export type StateDescriptor = ValueStateDescriptor<unknown> | MapStateDescriptor<Key, unknown>;

export const valueState = <V>(): ValueStateDescriptor<V> => ({ kind: 'value' });
export const mapState = <K extends Key, V>(): MapStateDescriptor<K, V> => ({ kind: 'map' });

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

export type StateHandles<S extends Record<string, StateDescriptor>> = {
  [N in keyof S]: S[N] extends MapStateDescriptor<infer K, infer V> ? MapState<K, V> : S[N] extends ValueStateDescriptor<infer V> ? ValueState<V> : never;
};

export interface KeyedProcessContext<K, S extends Record<string, StateDescriptor>, R> {
  readonly key: K;
  /** Event time of the current record, when it has one. */
  readonly timestamp: number | undefined;
  readonly state: StateHandles<S>;
  emit(value: R, timestamp?: number): void;
  /** Emits to a side output the function lists in `sideOutputs` (Flink's ctx.output). */
  output<O>(tag: OutputTag<O>, value: O, timestamp?: number): void;
}
