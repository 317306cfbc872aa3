/**
 * The process function of a stream that is not keyed, with operator state (Flink's
 * ProcessFunction with CheckpointedFunction's list state): each subtask keeps its own lists;
 * a restore at another parallelism splits `listState` evenly over the new subtasks and gives
 * `unionListState` whole to each. `endInput` runs once a subtask's input ended (Flink's
 * endInput), so a function that buffers can flush; after a restore from a checkpoint taken
 * later than that it may run again, so let it emit only what it holds.
 *
 *   lines.process('batches', {
 *     state: { buffer: listState<string>() },
 *     processElement(line, ctx) {
 *       ctx.state.buffer.add(line);
 *       if (ctx.state.buffer.get().length === 100) { ctx.emit(ctx.state.buffer.get()); ctx.state.buffer.clear(); }
 *     },
 *     endInput(ctx) { if (ctx.state.buffer.get().length > 0) ctx.emit(ctx.state.buffer.get()); ctx.state.buffer.clear(); },
 *   })
 */
import { requireName } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { OperatorSpec, ProcessContext, StateDeclarations } from '../core/graph.js';
import type { OutputTag } from './output-tag.js';
import { contextViews, sideOutputNames, taggedOutput, type OutputDescriptor } from './process-function.js';
import type { ListStateDescriptor, StateHandles, UnionListStateDescriptor } from './state.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- lists of any element type
export type OperatorStateDescriptor = ListStateDescriptor<any> | UnionListStateDescriptor<any>;

export interface OperatorProcessContext<S extends Record<string, OperatorStateDescriptor>, R> {
  /** Event time of the current record, when it has one (undefined in endInput). */
  readonly timestamp: number | undefined;
  /** The subtask's lists. */
  readonly state: StateHandles<S>;
  emit(value: R, timestamp?: number): void;
  output<O>(tag: OutputTag<O>, value: O, timestamp?: number): void;
  currentWatermark(): number;
}

export interface ProcessFunction<T, S extends Record<string, OperatorStateDescriptor>, R> {
  /** Operator state: listState() or unionListState() only. @default none */
  readonly state?: S;
  /** What `ctx.emit` takes: the record type of the resulting stream. @default unknown */
  readonly output?: OutputDescriptor<R>;
  /** The side outputs `ctx.output` may emit to. @default none */
  readonly sideOutputs?: readonly OutputTag<unknown>[];
  readonly processElement: (value: T, ctx: OperatorProcessContext<S, R>) => void;
  readonly endInput?: (ctx: OperatorProcessContext<S, R>) => void;
}

/** The operator spec of non-keyed process function `fn` of operator `name`, its state checked. */
export function operatorProcessSpec<T, S extends Record<string, OperatorStateDescriptor>, R>(name: string, fn: ProcessFunction<T, S, R>): Extract<OperatorSpec, { kind: 'process' }> {
  if (typeof fn?.processElement !== 'function') throw new ConfigError(`operators.${name}.processElement`, 'must be a function');
  if (fn.endInput !== undefined && typeof fn.endInput !== 'function') throw new ConfigError(`operators.${name}.endInput`, 'must be a function');
  const state: StateDeclarations = {};
  for (const [stateName, d] of Object.entries(fn.state ?? {})) {
    const field = `operators.${name}.state.${stateName}`;
    requireName(field, stateName);
    if (d?.kind !== 'list' && d?.kind !== 'union') throw new ConfigError(field, 'a stream that is not keyed keeps operator state: listState() or unionListState() (keyBy first for keyed state)');
    if ('ttl' in d && d.ttl !== undefined) throw new ConfigError(`${field}.ttl`, 'is for keyed state: operator state lives until cleared');
    state[stateName] = { kind: d.kind };
  }
  const sideOutputs = sideOutputNames(name, fn.sideOutputs ?? []);
  // The typed view: output takes a tag, currentWatermark is the timer service's.
  const viewOf = contextViews<OperatorProcessContext<S, R>>((ctx) => ({ output: taggedOutput(ctx), currentWatermark: () => ctx.timerService.currentWatermark() }));
  const processElement = fn.processElement as (v: unknown, ctx: OperatorProcessContext<S, R>) => void;
  const endInput = fn.endInput;
  return {
    kind: 'process',
    state,
    operatorState: true,
    ...(sideOutputs.length > 0 ? { sideOutputs } : {}),
    fn: (v, ctx) => processElement(v, viewOf(ctx)),
    ...(endInput ? { endInput: (ctx: ProcessContext) => endInput(viewOf(ctx)) } : {}),
  };
}

/** A function of two connected streams, neither keyed (Flink's CoProcessFunction), with operator state. */
export interface CoProcessFunction<T1, T2, S extends Record<string, OperatorStateDescriptor>, R> {
  readonly state?: S;
  readonly output?: OutputDescriptor<R>;
  readonly sideOutputs?: readonly OutputTag<unknown>[];
  /** Called for each record of the first stream (the one `connect` was called on). */
  readonly processElement1: (value: T1, ctx: OperatorProcessContext<S, R>) => void;
  /** Called for each record of the second stream (`connect`'s argument). */
  readonly processElement2: (value: T2, ctx: OperatorProcessContext<S, R>) => void;
  /** Once both inputs ended. */
  readonly endInput?: (ctx: OperatorProcessContext<S, R>) => void;
}

/** The operator spec of a connected non-keyed function: `processElement2` becomes `fn2`. */
export function coOperatorProcessSpec<T1, T2, S extends Record<string, OperatorStateDescriptor>, R>(name: string, fn: CoProcessFunction<T1, T2, S, R>): Extract<OperatorSpec, { kind: 'process' }> {
  for (const f of ['processElement1', 'processElement2'] as const) {
    if (typeof fn?.[f] !== 'function') throw new ConfigError(`operators.${name}.${f}`, 'must be a function');
  }
  // Field by field: a function object may be a class instance, its methods on the prototype.
  const shared = { state: fn.state, sideOutputs: fn.sideOutputs };
  const first = operatorProcessSpec(name, { ...shared, processElement: fn.processElement1, ...(fn.endInput ? { endInput: fn.endInput } : {}) });
  const second = operatorProcessSpec(name, { ...shared, processElement: fn.processElement2 as unknown as (v: T1, ctx: OperatorProcessContext<S, R>) => void });
  return { ...first, fn2: second.fn };
}
