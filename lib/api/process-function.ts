/**
 * The keyed process function (Flink's KeyedProcessFunction, without timers): the keyed state
 * it declares, the type of the records it emits, and `processElement`, called once per record
 * with the current key's state.
 *
 * TypeScript infers no type from the calls inside a function body, so what `ctx.emit` takes,
 * and with it the record type of the stream `process` returns, is declared next to the state,
 * as a descriptor that carries only a type: `output: output<Visit>()`. Without it, the stream
 * is a `Stream<unknown>` and `ctx.emit` takes anything. The descriptor is never read at run
 * time: declaring it changes no behaviour.
 *
 *   keyed.process('visits', {
 *     state: { total: valueState<number>() },
 *     output: output<{ user: string; total: number }>(),
 *     processElement(e, ctx) { ... ctx.emit({ user: ctx.key, total }) },
 *   }) // Stream<{ user: string; total: number }>
 */
import { requireName } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { OperatorSpec, ProcessContext, StateDeclaration, StateDeclarations, StateTtl } from '../core/graph.js';
import type { Key } from '../core/keygroups.js';
import type { KeyedProcessContext, StateDescriptor, StateTtlOptions } from './state.js';
import type { OutputTag } from './output-tag.js';

export { outputTag, type OutputTag } from './output-tag.js';

/** The type of the records a process function emits. Phantom, like a state descriptor. */
export interface OutputDescriptor<R> {
  readonly kind: 'output';
  /** Phantom: the record type. */
  readonly __type?: R;
}

export const output = <R>(): OutputDescriptor<R> => ({ kind: 'output' });


export interface KeyedProcessFunction<T, K extends Key, S extends Record<string, StateDescriptor>, R> {
  readonly state: S;
  /** What `ctx.emit` takes: the record type of the resulting stream. @default unknown */
  readonly output?: OutputDescriptor<R>;
  /** The side outputs `ctx.output` may emit to. @default none */
  readonly sideOutputs?: readonly OutputTag<unknown>[];
  readonly processElement: (value: T, ctx: KeyedProcessContext<K, S, R>) => void;
  /** Called when one of the key's timers (`ctx.timerService`) fires, with its time. An
   *  event-time timer's time is `ctx.timestamp` too, and what it emits carries it; a
   *  processing-time timer's output has no timestamp (`ctx.timeDomain` tells them apart). */
  readonly onTimer?: (timestamp: number, ctx: KeyedProcessContext<K, S, R>) => void;
}

/**
 * A keyed function of two connected streams (Flink's KeyedCoProcessFunction): one call per
 * input, both on the key's state and timers.
 *
 *   orders.keyBy((o) => o.id).connect(payments.keyBy((p) => p.order)).process('match', {
 *     state: { order: valueState<Order>() },
 *     processElement1(order, ctx) { ... }, processElement2(payment, ctx) { ... },
 *   })
 */
export interface KeyedCoProcessFunction<T1, T2, K extends Key, S extends Record<string, StateDescriptor>, R> {
  readonly state: S;
  /** What `ctx.emit` takes: the record type of the resulting stream. @default unknown */
  readonly output?: OutputDescriptor<R>;
  /** The side outputs `ctx.output` may emit to. @default none */
  readonly sideOutputs?: readonly OutputTag<unknown>[];
  /** Called for each record of the first stream (the one `connect` was called on). */
  readonly processElement1: (value: T1, ctx: KeyedProcessContext<K, S, R>) => void;
  /** Called for each record of the second stream (`connect`'s argument). */
  readonly processElement2: (value: T2, ctx: KeyedProcessContext<K, S, R>) => void;
  /** As in KeyedProcessFunction. */
  readonly onTimer?: (timestamp: number, ctx: KeyedProcessContext<K, S, R>) => void;
}

/** The operator spec of a connected process function: `processElement2` becomes `fn2`. */
export function coProcessSpec<T1, T2, K extends Key, S extends Record<string, StateDescriptor>, R>(
  name: string,
  fn: KeyedCoProcessFunction<T1, T2, K, S, R>,
): Extract<OperatorSpec, { kind: 'process' }> {
  for (const f of ['processElement1', 'processElement2'] as const) {
    if (typeof fn?.[f] !== 'function') throw new ConfigError(`operators.${name}.${f}`, 'must be a function');
  }
  // Read field by field: a function object may be a class instance, its methods on the prototype.
  const shared = { state: fn.state, sideOutputs: fn.sideOutputs, onTimer: fn.onTimer };
  const first = processSpec(name, { ...shared, processElement: fn.processElement1 });
  const second = processSpec(name, { ...shared, processElement: fn.processElement2 as unknown as (v: T1, ctx: KeyedProcessContext<K, S, R>) => void });
  return { ...first, fn2: second.fn };
}

/** The operator spec of process function `fn` of operator `name`, its state declarations checked. */
export function processSpec<T, K extends Key, S extends Record<string, StateDescriptor>, R>(
  name: string,
  fn: KeyedProcessFunction<T, K, S, R>,
): Extract<OperatorSpec, { kind: 'process' }> {
  const state: StateDeclarations = {};
  for (const [stateName, d] of Object.entries(fn.state ?? {})) state[stateName] = stateDeclaration(`operators.${name}.state.${stateName}`, stateName, d);
  const sideOutputs = sideOutputNames(name, fn.sideOutputs ?? []);
  // The engine's context is untyped; `KeyedProcessContext` is its typed view (its `output`
  // takes a tag, the engine's a tag's name).
  const processElement = fn.processElement as unknown as (v: unknown, ctx: KeyedProcessContext<Key, S, unknown>) => void;
  const viewOf = contextViews<ProcessContext>((ctx) => ({ output: taggedOutput(ctx) }));
  const withTags = (v: unknown, ctx: ProcessContext) => processElement(v, viewOf(ctx) as never);
  const timer = onTimerOf(name, fn.onTimer as ((t: number, ctx: never) => void) | undefined);
  const onTimer = timer && (sideOutputs.length > 0 ? (t: number, ctx: ProcessContext) => timer(t, viewOf(ctx) as never) : (timer as (t: number, ctx: ProcessContext) => void));
  return {
    kind: 'process',
    state,
    ...(sideOutputs.length > 0 ? { sideOutputs, fn: withTags } : { fn: processElement as never }),
    ...(onTimer ? { onTimer } : {}),
  };
}

/**
 * Typed views over the engine's contexts: each one the context itself (by prototype) with
 * `extra(ctx)` over it, made once per context — the engine reuses its context for every call.
 */
export function contextViews<V>(extra: (ctx: ProcessContext) => object): (ctx: ProcessContext) => V {
  const views = new WeakMap<ProcessContext, V>();
  return (ctx) => {
    let view = views.get(ctx);
    if (view === undefined) views.set(ctx, (view = Object.assign(Object.create(ctx) as object, extra(ctx)) as V));
    return view;
  };
}

/** The typed `output`, which takes a tag, over the engine's, which takes the tag's name. */
export const taggedOutput = (ctx: ProcessContext) => (tag: OutputTag<unknown>, value: unknown, ts?: number) => ctx.output(tag?.name, value, ts);

function onTimerOf(name: string, onTimer: unknown): ((t: number, ctx: never) => void) | undefined {
  if (onTimer === undefined) return undefined;
  if (typeof onTimer !== 'function') throw new ConfigError(`operators.${name}.onTimer`, 'must be a function');
  return onTimer as (t: number, ctx: never) => void;
}

function stateDeclaration(field: string, stateName: string, d: StateDescriptor | undefined): StateDeclaration {
  requireName(field, stateName);
  const fn = (part: string, f: unknown) => {
    if (typeof f !== 'function') throw new ConfigError(`${field}.${part}`, 'must be a function');
    return f as never;
  };
  const ttl = d?.ttl === undefined ? {} : { ttl: stateTtl(`${field}.ttl`, d.ttl) };
  switch (d?.kind) {
    case 'value':
    case 'map':
    case 'list':
      return { kind: d.kind, ...ttl };
    case 'reducing':
      return { kind: 'reducing', reduce: fn('reduce', d.reduce), ...ttl };
    case 'aggregating':
      return { kind: 'aggregating', create: fn('create', d.create), add: fn('add', d.add), result: fn('result', d.result), ...ttl };
    default:
      throw new ConfigError(field, 'must be valueState(), mapState(), listState(), reducingState() or aggregatingState()');
  }
}

/** A state's ttl option checked: one clock, a whole number of ms from 1, and how reads count. */
function stateTtl(field: string, ttl: StateTtlOptions): StateTtl {
  const both = ttl?.eventTime !== undefined && ttl.processingTime !== undefined;
  if (both) throw new ConfigError(field, 'takes eventTime or processingTime, not both');
  const clock = ttl?.processingTime !== undefined ? 'processingTime' : 'eventTime';
  const ms = ttl?.[clock];
  if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1) throw new ConfigError(`${field}.${clock}`, `must be a whole number of ms from 1, got ${String(ms)}`);
  const updateOn = ttl.updateOn ?? 'write';
  if (updateOn !== 'write' && updateOn !== 'read-and-write') throw new ConfigError(`${field}.updateOn`, `must be 'write' or 'read-and-write', got ${JSON.stringify(updateOn)}`);
  return { domain: clock === 'eventTime' ? 'event-time' : 'processing-time', ms, updateOn };
}

export function sideOutputNames(op: string, tags: readonly OutputTag<unknown>[]): string[] {
  const names: string[] = [];
  for (const [i, tag] of tags.entries()) {
    if (tag?.kind !== 'output-tag') throw new ConfigError(`operators.${op}.sideOutputs.${i}`, 'must be an outputTag()');
    if (names.includes(tag.name)) throw new ConfigError(`operators.${op}.sideOutputs.${i}`, `lists ${tag.name} twice`);
    names.push(tag.name);
  }
  return names;
}
