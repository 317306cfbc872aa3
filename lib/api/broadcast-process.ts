/**
 * The keyed broadcast process function (Flink's KeyedBroadcastProcessFunction): a keyed
 * stream connected to a broadcast() stream. Every subtask gets every broadcast record and
 * keeps its own copy of the broadcast state — map states the function declares — which
 * `processBroadcastElement` writes (it has no key, so no keyed state and no timers) and
 * `processElement` and `onTimer` read. Copies stay equal when the broadcast call updates the
 * state from the record alone, as Flink requires; records from several broadcast subtasks
 * may arrive in another order at each subtask.
 *
 *   events.keyBy((e) => e.user).connect(rules.broadcast()).process('apply', {
 *     state: {}, broadcastState: { rules: mapState<string, Rule>() },
 *     processElement(e, ctx) { const rule = ctx.broadcastState.rules.get(e.kind); ... },
 *     processBroadcastElement(rule, ctx) { ctx.broadcastState.rules.put(rule.kind, rule) },
 *   })
 */
import { requireName } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { OperatorSpec, ProcessContext } from '../core/graph.js';
import type { Key } from '../core/keygroups.js';
import type { OutputTag } from './output-tag.js';
import { contextViews, processSpec, type OutputDescriptor } from './process-function.js';
import type { KeyedProcessContext, MapState, MapStateDescriptor, StateDescriptor } from './state.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any key and value type
type AnyMapState = MapStateDescriptor<any, any>;

/** What a keyed record's call may do with a broadcast map state (Flink's ReadOnlyBroadcastState). */
export type ReadOnlyMapState<K extends Key, V> = Pick<MapState<K, V>, 'get' | 'contains' | 'keys' | 'values' | 'entries' | 'isEmpty'>;

type Writable<BS extends Record<string, AnyMapState>> = { [N in keyof BS]: BS[N] extends MapStateDescriptor<infer K, infer V> ? MapState<K, V> : never };
type ReadOnly<BS extends Record<string, AnyMapState>> = { [N in keyof BS]: BS[N] extends MapStateDescriptor<infer K, infer V> ? ReadOnlyMapState<K, V> : never };

/** The context of a keyed record's call, or a timer's: the keyed one, and the broadcast state to read. */
export type KeyedBroadcastContext<K, S extends Record<string, StateDescriptor>, BS extends Record<string, AnyMapState>, R> = KeyedProcessContext<K, S, R> & {
  readonly broadcastState: ReadOnly<BS>;
};

/** The context of a broadcast record's call: no key. */
export interface BroadcastContext<BS extends Record<string, AnyMapState>, R> {
  readonly timestamp: number | undefined;
  readonly broadcastState: Writable<BS>;
  emit(value: R, timestamp?: number): void;
  output<O>(tag: OutputTag<O>, value: O, timestamp?: number): void;
  currentWatermark(): number;
}

export interface KeyedBroadcastProcessFunction<T, B, K extends Key, S extends Record<string, StateDescriptor>, BS extends Record<string, AnyMapState>, R> {
  readonly state: S;
  /** Map states every subtask keeps a copy of (Flink's MapStateDescriptor for broadcast()). */
  readonly broadcastState: BS;
  /** What `ctx.emit` takes: the record type of the resulting stream. @default unknown */
  readonly output?: OutputDescriptor<R>;
  /** The side outputs `ctx.output` may emit to. @default none */
  readonly sideOutputs?: readonly OutputTag<unknown>[];
  readonly processElement: (value: T, ctx: KeyedBroadcastContext<K, S, BS, R>) => void;
  readonly processBroadcastElement: (value: B, ctx: BroadcastContext<BS, R>) => void;
  readonly onTimer?: (timestamp: number, ctx: KeyedBroadcastContext<K, S, BS, R>) => void;
}

/** The operator spec: `processBroadcastElement` becomes `fn2`, the broadcast state names listed. */
export function broadcastProcessSpec<T, B, K extends Key, S extends Record<string, StateDescriptor>, BS extends Record<string, AnyMapState>, R>(
  name: string,
  fn: KeyedBroadcastProcessFunction<T, B, K, S, BS, R>,
): Extract<OperatorSpec, { kind: 'process' }> {
  for (const f of ['processElement', 'processBroadcastElement'] as const) {
    if (typeof fn?.[f] !== 'function') throw new ConfigError(`operators.${name}.${f}`, 'must be a function');
  }
  const broadcastState = Object.entries(fn.broadcastState ?? {}).map(([stateName, d]) => {
    const field = `operators.${name}.broadcastState.${stateName}`;
    requireName(field, stateName);
    if (d?.kind !== 'map') throw new ConfigError(field, 'must be mapState(): broadcast state is a map, as in Flink');
    return stateName;
  });
  if (broadcastState.length === 0) throw new ConfigError(`operators.${name}.broadcastState`, 'declares no state; a broadcast process function needs one mapState()');
  const shared = { state: fn.state, sideOutputs: fn.sideOutputs, onTimer: fn.onTimer as never };
  const keyed = processSpec(name, { ...shared, processElement: fn.processElement as never });
  const onBroadcast = fn.processBroadcastElement as unknown as (v: unknown, ctx: BroadcastContext<BS, R>) => void;
  // The typed view adds currentWatermark to the engine's context (its timer service has it).
  const viewOf = contextViews<BroadcastContext<BS, R>>((ctx) => ({ currentWatermark: () => ctx.timerService.currentWatermark() }));
  const broadcast = processSpec(name, { ...shared, processElement: ((v: unknown, ctx: ProcessContext) => onBroadcast(v, viewOf(ctx))) as never });
  return { ...keyed, fn2: broadcast.fn, broadcastState };
}
