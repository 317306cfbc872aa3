/**
 * Streams: what the pipeline API's operators return. A stream remembers which operator
 * outputs it reads and how they are partitioned; each operator call adds a node to the job
 * (through its OperatorGraph) and returns the stream of that node's output.
 *
 * The stream classes share this module because each makes the next and several extend
 * Stream: keyBy() makes a KeyedStream, its window() a WindowedStream, whose functions make a
 * WindowResult, and lateRecords() a Stream again; connect() makes connected streams whose
 * process() makes a ProcessResult. Apart, they would import each other (a module of the
 * connected ones was tried: it needs ProcessResult, which needs it). So this module is long,
 * but only wiring: what the operators do lives elsewhere — the operator graph
 * (operator-graph.ts), process functions (process-function.ts, broadcast-process.ts,
 * operator-state.ts), joins (interval-join.ts, window-join.ts), count windows
 * (count-windows.ts) and window options (windows.ts).
 *
 * Never name a method `then`: a stream would become a thenable, and `await` (or returning it
 * from an async function) would call it instead of resolving to the stream.
 */
import { ConfigError } from '../core/errors.js';
import type { Key } from '../core/keygroups.js';
import { sideOutputPort, type OperatorSpec, type Partitioning, type WindowFunction } from '../core/graph.js';
import type { Window, WindowAssigner } from '../core/windows.js';
import { addOperator, type OperatorGraph, type OperatorOptions, type Producer, type ProducerInput } from './operator-graph.js';
import { countWindowFunction, countWindowSpec } from './count-windows.js';
import { leftSide, pairsOf, rightSide, type JoinFunction, type JoinSide } from './window-join.js';
import { intervalBounds, intervalJoinFunction, type LateOutputs, type ProcessJoinFunction } from './interval-join.js';
import { coProcessSpec, processSpec, type KeyedCoProcessFunction, type KeyedProcessFunction, type OutputTag } from './process-function.js';
import type { Sink } from './sinks.js';
import type { MapStateDescriptor, StateDescriptor } from './state.js';
import { coOperatorProcessSpec, operatorProcessSpec, type CoProcessFunction, type OperatorStateDescriptor, type ProcessFunction } from './operator-state.js';
import { broadcastProcessSpec, type KeyedBroadcastProcessFunction } from './broadcast-process.js';
import { windowSettings, type WindowOptions, type WindowSettings } from './windows.js';

function requireFunction(field: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new ConfigError(field, 'must be a function');
}

export class Stream<T> {
  constructor(
    protected readonly graph: OperatorGraph,
    protected readonly producers: readonly Producer[],
    protected readonly partitioning: Partitioning | null,
  ) {}

  /** What a two-input operator reading `s` on `input` takes from it (for connect). */
  protected static inputsOf(s: Stream<unknown>, input: 1 | 2): { readonly graph: OperatorGraph; readonly inputs: ProducerInput[] } {
    return { graph: s.graph, inputs: s.producers.map((p) => ({ ...p, partitioning: s.partitioning, ...(input === 2 ? { input } : {}) })) };
  }

  /** Adds the next operator, reading this stream; the stream of its output. */
  protected append<U>(name: string, spec: OperatorSpec, options?: OperatorOptions): Stream<U> {
    return new Stream<U>(this.graph, addOperator(this.graph, this.producers, this.partitioning, { name, spec, options }), null);
  }

  map<U>(name: string, fn: (value: T) => U, options?: OperatorOptions): Stream<U> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.append(name, { kind: 'map', fn: fn as (v: unknown) => unknown }, options);
  }

  filter(name: string, fn: (value: T) => boolean, options?: OperatorOptions): Stream<T> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.append(name, { kind: 'filter', fn: fn as (v: unknown) => boolean }, options);
  }

  flatMap<U>(name: string, fn: (value: T) => Iterable<U>, options?: OperatorOptions): Stream<U> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.append(name, { kind: 'flatMap', fn: fn as (v: unknown) => Iterable<unknown> }, options);
  }

  /** Partitions by key: records with equal keys go to the same subtask, and keyed state follows them. */
  keyBy<K extends Key>(selector: (value: T) => K): KeyedStream<T, K> {
    requireFunction('keyBy.selector', selector);
    return new KeyedStream<T, K>(this.graph, this.producers, { type: 'hash', key: selector as (v: unknown) => unknown });
  }

  /** Round-robin to all downstream subtasks. */
  rebalance(): Stream<T> {
    return new Stream<T>(this.graph, this.producers, { type: 'rebalance' });
  }

  /** Every record to every downstream subtask; a keyed stream may `connect` it (broadcast state). */
  broadcast(): BroadcastStream<T> {
    return new BroadcastStream<T>(this.graph, this.producers, { type: 'broadcast' });
  }

  /**
   * A process function on this stream, not keyed, with operator state (operator-state.ts):
   * `state: { buffer: listState<T>() }`, split evenly over the subtasks of a rescaled restore
   * (`unionListState`: given whole to each), and `endInput` to flush at the end of input.
   */
  process<S extends Record<string, OperatorStateDescriptor>, R = unknown>(name: string, fn: ProcessFunction<T, S, R>, options?: OperatorOptions): ProcessResult<R> {
    const spec = operatorProcessSpec(name, fn);
    const producers = addOperator(this.graph, this.producers, this.partitioning, { name, spec, options });
    return new ProcessResult<R>(this.graph, producers, spec.sideOutputs ?? []);
  }

  /**
   * Connects another stream, neither keyed (Flink's connect + CoProcessFunction): a two-input
   * process function with operator state (operator-state.ts). Keyed streams connect keyed or
   * broadcast() ones instead (KeyedStream.connect).
   */
  connect<T2>(other: Stream<T2>): OperatorConnectedStreams<T, T2> {
    if (!(other instanceof Stream)) throw new ConfigError('connect', 'connect a stream');
    if (other instanceof KeyedStream || other instanceof BroadcastStream) {
      throw new ConfigError('connect', 'this stream is not keyed: connect another that is not keyed, or keyBy() this one first');
    }
    const [first, second] = [Stream.inputsOf(this, 1), Stream.inputsOf(other as Stream<unknown>, 2)];
    if (second.graph !== this.graph) throw new ConfigError('connect', 'streams belong to different jobs');
    return new OperatorConnectedStreams<T, T2>(this.graph, [...first.inputs, ...second.inputs]);
  }

  /** Merges streams of the same type; the next operator reads all of them. */
  union(...others: Stream<T>[]): Stream<T> {
    for (const o of others) {
      if (o.graph !== this.graph) throw new ConfigError('union', 'streams belong to different jobs');
      if (o.partitioning !== null || this.partitioning !== null) throw new ConfigError('union', 'union streams before keyBy/rebalance/broadcast');
    }
    return new Stream<T>(this.graph, [...this.producers, ...others.flatMap((o) => o.producers)], null);
  }

  /**
   * Joins another stream in windows (Flink's window join): `.where(key).equalTo(key)
   * .window(assigner).apply(name, fn)` calls `fn` for every pair with equal keys in a window.
   * It adds `<name>-left` and `<name>-right` (which tag each side) before the window `name`.
   */
  join<R>(other: Stream<R>): { where<K extends Key>(key: (left: T) => K): { equalTo(key: (right: R) => K): { window(assigner: WindowAssigner): WindowJoin<T, R, K> } } } {
    return {
      where: (leftKey) => ({
        equalTo: (rightKey) => ({
          window: (assigner) => ({
            apply: (name, fn, options) => {
              requireFunction(`operators.${name}.fn`, fn);
              const lefts = this.map(`${name}-left`, leftSide<T, R>(leftKey));
              const rights = other.map(`${name}-right`, rightSide<T, R>(rightKey));
              return lefts.union(rights).keyBy((e) => e.key).window(assigner).process(name, pairsOf(fn), options);
            },
          }),
        }),
      }),
    };
  }

  sink(name: string, sink: Sink<T>, options?: OperatorOptions): void {
    if (!sink || typeof sink.spec?.kind !== 'string') throw new ConfigError(`operators.${name}.sink`, 'is not a sink; use collect() or another sink factory');
    this.append(name, { kind: 'sink', sink: sink.spec }, options);
  }
}

export class KeyedStream<T, K extends Key> extends Stream<T> {
  /** Rolling reduce per key: emits the new accumulated value after every record. */
  reduce(name: string, fn: (accumulator: T, value: T) => T, options?: OperatorOptions): Stream<T> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.append(name, { kind: 'reduce', fn: fn as (a: unknown, v: unknown) => unknown }, options);
  }

  /** Rolling aggregate per key with an accumulator of another type. */
  aggregate<A, R>(
    name: string,
    fns: { create: () => A; add: (accumulator: A, value: T) => A; result: (accumulator: A, key: K) => R },
    options?: OperatorOptions,
  ): Stream<R> {
    for (const f of ['create', 'add', 'result'] as const) requireFunction(`operators.${name}.${f}`, fns?.[f]);
    const add = fns.add as (a: unknown, v: unknown) => unknown;
    return this.append(name, { kind: 'aggregate', create: fns.create, add, result: fns.result as (a: unknown, k: unknown) => unknown }, options);
  }

  /**
   * A keyed process function with declared state (Flink's KeyedProcessFunction, without
   * timers). The result is a stream of what `output: output<R>()` declares it emits.
   */
  override process<S extends Record<string, StateDescriptor>, R = unknown>(name: string, fn: KeyedProcessFunction<T, K, S, R>, options?: OperatorOptions): ProcessResult<R>;
  /** Operator state is for a stream that is not keyed: a ConfigError here (declare keyed state). */
  override process<S extends Record<string, OperatorStateDescriptor>, R = unknown>(name: string, fn: ProcessFunction<T, S, R>, options?: OperatorOptions): ProcessResult<R>;
  override process<R>(name: string, fn: KeyedProcessFunction<T, K, Record<string, StateDescriptor>, R> | ProcessFunction<T, Record<string, OperatorStateDescriptor>, R>, options?: OperatorOptions): ProcessResult<R> {
    requireFunction(`operators.${name}.processElement`, fn?.processElement);
    if ('endInput' in fn) throw new ConfigError(`operators.${name}.endInput`, 'is for a stream that is not keyed; a keyed function ends with the last watermark (onTimer)');
    const spec = processSpec(name, fn as KeyedProcessFunction<T, K, Record<string, StateDescriptor>, R>);
    const producers = addOperator(this.graph, this.producers, this.partitioning, { name, spec, options });
    return new ProcessResult<R>(this.graph, producers, spec.sideOutputs ?? []);
  }

  /**
   * Connects another keyed stream (Flink's connect on keyed streams): a two-input process
   * function then sees both, with one keyed state and one set of timers per key. The keys of
   * both sides must agree in type (`"1"` and `1` are different keys).
   */
  override connect<T2>(other: KeyedStream<T2, K>): ConnectedStreams<T, T2, K>;
  /** Connects a broadcast() stream: the broadcast state pattern (broadcast-process.ts). */
  override connect<T2>(other: BroadcastStream<T2>): BroadcastConnectedStreams<T, T2, K>;
  /** A stream neither keyed nor broadcast: a ConfigError (keyBy() or broadcast() it first). */
  override connect<T2>(other: Stream<T2>): OperatorConnectedStreams<T, T2>;
  override connect<T2>(other: Stream<T2>): ConnectedStreams<T, T2, K> | BroadcastConnectedStreams<T, T2, K> | OperatorConnectedStreams<T, T2> {
    if (!(other instanceof KeyedStream) && !(other instanceof BroadcastStream)) {
      throw new ConfigError('connect', 'connect a keyed stream, or a broadcast() one: call keyBy() or broadcast() on the other stream first');
    }
    const [first, second] = [Stream.inputsOf(this, 1), Stream.inputsOf(other as Stream<unknown>, 2)];
    if (second.graph !== this.graph) throw new ConfigError('connect', 'streams belong to different jobs');
    const both = [...first.inputs, ...second.inputs];
    return other instanceof BroadcastStream ? new BroadcastConnectedStreams<T, T2, K>(this.graph, both) : new ConnectedStreams<T, T2, K>(this.graph, both);
  }

  /** Count windows per key (Flink's countWindow): every `slide` records over the last `size` (count-windows.ts). */
  countWindow(size: number, slide?: number): CountWindowedStream<T, K> {
    const spec = countWindowSpec(size, slide);
    return {
      reduce: (name, fn, options) => {
        requireFunction(`operators.${name}.fn`, fn);
        return this.process(name, countWindowFunction<T, K, T>(spec, (_k, records, emit) => emit(records.reduce((a, b) => fn(a, b)))), options);
      },
      aggregate: (name, fns, options) => {
        for (const f of ['create', 'add', 'result'] as const) requireFunction(`operators.${name}.${f}`, fns?.[f]);
        return this.process(name, countWindowFunction(spec, (k, records, emit) => emit(fns.result(records.reduce((acc, r) => fns.add(acc, r), fns.create()), k))), options);
      },
      process: (name, fn, options) => {
        requireFunction(`operators.${name}.fn`, fn);
        return this.process(name, countWindowFunction(spec, fn), options);
      },
    };
  }

  /** Joins another keyed stream by time (Flink's intervalJoin): `.between(lower, upper).process(…)`. */
  intervalJoin<T2>(other: KeyedStream<T2, K>): IntervalJoin<T, T2, K> {
    const connected = this.connect(other);
    return { between: (lower, upper) => new IntervalJoined<T, T2, K>(connected, lower, upper, false, false) };
  }

  /**
   * Event-time windows per key. The records need timestamps and the source watermarks.
   * `allowedLateness` keeps a fired window open for late records (each re-fires it); records
   * later than that are dropped and counted, or, with `late: 'side-output'`, go to
   * `lateRecords()` of the window's result.
   */
  window(assigner: WindowAssigner, options: WindowOptions = {}): WindowedStream<T, K> {
    return new WindowedStream<T, K>(this.graph, this.producers, this.partitioning, windowSettings(assigner, options));
  }
}

/** Two streams, neither keyed, connected: `process` adds the function that reads both. */
export class OperatorConnectedStreams<T1, T2> {
  constructor(
    private readonly graph: OperatorGraph,
    private readonly inputs: readonly ProducerInput[],
  ) {}

  /** A two-input process function with operator state (Flink's CoProcessFunction). */
  process<S extends Record<string, OperatorStateDescriptor>, R = unknown>(name: string, fn: CoProcessFunction<T1, T2, S, R>, options?: OperatorOptions): ProcessResult<R> {
    const spec = coOperatorProcessSpec(name, fn);
    const node = this.graph.add(name, spec, this.inputs, options ?? {});
    return new ProcessResult<R>(this.graph, [{ from: node.name }], spec.sideOutputs ?? []);
  }
}

/** A stream every record of which goes to every subtask of what reads it. */
export class BroadcastStream<T> extends Stream<T> {}

/** A keyed stream and a broadcast one connected: `process` adds the function that reads both. */
export class BroadcastConnectedStreams<T, B, K extends Key> {
  constructor(
    private readonly graph: OperatorGraph,
    private readonly inputs: readonly ProducerInput[],
  ) {}

  /** A keyed broadcast process function (Flink's KeyedBroadcastProcessFunction). */
  process<S extends Record<string, StateDescriptor>, BS extends Record<string, MapStateDescriptor<Key, unknown>>, R = unknown>(
    name: string,
    fn: KeyedBroadcastProcessFunction<T, B, K, S, BS, R>,
    options?: OperatorOptions,
  ): ProcessResult<R> {
    const spec = broadcastProcessSpec(name, fn);
    const node = this.graph.add(name, spec, this.inputs, options ?? {});
    return new ProcessResult<R>(this.graph, [{ from: node.name }], spec.sideOutputs ?? []);
  }
}

/** Two keyed streams connected: `process` adds the function that reads both. */
export class ConnectedStreams<T1, T2, K extends Key> {
  constructor(
    private readonly graph: OperatorGraph,
    private readonly inputs: readonly ProducerInput[],
  ) {}

  /** A keyed two-input process function (Flink's KeyedCoProcessFunction). */
  process<S extends Record<string, StateDescriptor>, R = unknown>(name: string, fn: KeyedCoProcessFunction<T1, T2, K, S, R>, options?: OperatorOptions): ProcessResult<R> {
    const spec = coProcessSpec(name, fn);
    const node = this.graph.add(name, spec, this.inputs, options ?? {});
    return new ProcessResult<R>(this.graph, [{ from: node.name }], spec.sideOutputs ?? []);
  }
}

/** A keyed stream cut into count windows: what each window does when it fires. */
export interface CountWindowedStream<T, K extends Key> {
  reduce(name: string, fn: (accumulator: T, value: T) => T, options?: OperatorOptions): Stream<T>;
  aggregate<A, R>(name: string, fns: { create: () => A; add: (accumulator: A, value: T) => A; result: (accumulator: A, key: K) => R }, options?: OperatorOptions): Stream<R>;
  /** Calls `fn` with all of a window's records, oldest first. */
  process<R>(name: string, fn: (key: K, records: T[], emit: (value: R) => void) => void, options?: OperatorOptions): Stream<R>;
}

/** A window join with its keys and windows: `apply` adds it (window-join.ts). */
export interface WindowJoin<L, R, K extends Key> {
  apply<O>(name: string, fn: JoinFunction<L, R, O>, options?: OperatorOptions): WindowResult<O, JoinSide<L, R>>;
}

/** An interval join waiting for its bounds. */
export interface IntervalJoin<L, R, K extends Key> {
  /** A right record joins a left one at time t when its time is in [t + lower, t + upper] (ms). */
  between(lower: number, upper: number): IntervalJoined<L, R, K>;
}

/** An interval join with its bounds: `process` adds it (interval-join.ts). */
export class IntervalJoined<L, R, K extends Key> {
  constructor(
    private readonly connected: ConnectedStreams<L, R, K>,
    private readonly lower: number,
    private readonly upper: number,
    private readonly lowerExclusive: boolean,
    private readonly upperExclusive: boolean,
    private readonly late: LateOutputs<L, R> = {},
  ) {}

  lowerBoundExclusive(): IntervalJoined<L, R, K> {
    return new IntervalJoined(this.connected, this.lower, this.upper, true, this.upperExclusive, this.late);
  }

  upperBoundExclusive(): IntervalJoined<L, R, K> {
    return new IntervalJoined(this.connected, this.lower, this.upper, this.lowerExclusive, true, this.late);
  }

  /** Left records late on arrival go to `tag` (getSideOutput of the result) instead of being dropped. */
  sideOutputLeftLateData(tag: OutputTag<L>): IntervalJoined<L, R, K> {
    return new IntervalJoined(this.connected, this.lower, this.upper, this.lowerExclusive, this.upperExclusive, { ...this.late, left: tag });
  }

  /** Right records late on arrival go to `tag` instead of being dropped. */
  sideOutputRightLateData(tag: OutputTag<R>): IntervalJoined<L, R, K> {
    return new IntervalJoined(this.connected, this.lower, this.upper, this.lowerExclusive, this.upperExclusive, { ...this.late, right: tag });
  }

  /** Calls `fn` once per joined pair; what it emits carries the pair's (later) time. */
  process<O>(name: string, fn: ProcessJoinFunction<L, R, K, O>, options?: OperatorOptions): ProcessResult<O> {
    requireFunction(`operators.${name}.fn`, fn);
    const bounds = intervalBounds(this.lower, this.upper, this.lowerExclusive, this.upperExclusive);
    return this.connected.process(name, intervalJoinFunction(name, bounds, fn, this.late), options);
  }
}

/** A keyed stream cut into windows; a window function turns each window into results. */
export class WindowedStream<T, K extends Key> {
  constructor(
    private readonly graph: OperatorGraph,
    private readonly producers: readonly Producer[],
    private readonly partitioning: Partitioning | null,
    private readonly settings: WindowSettings,
  ) {}

  private append<R>(name: string, fn: WindowFunction, options?: OperatorOptions): WindowResult<R, T> {
    const spec: OperatorSpec = { kind: 'window', ...this.settings, fn };
    const producers = addOperator(this.graph, this.producers, this.partitioning, { name, spec, options });
    return new WindowResult<R, T>(this.graph, producers, null, this.settings.late === 'side-output');
  }

  /** Reduces each window's records to one (the result carries the window's last timestamp). */
  reduce(name: string, fn: (accumulator: T, value: T) => T, options?: OperatorOptions): WindowResult<T, T> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.append(name, { kind: 'reduce', fn: fn as (a: unknown, v: unknown) => unknown }, options);
  }

  /** Aggregates each window; session windows also need `merge`, since sessions merge. */
  aggregate<A, R>(
    name: string,
    fns: { create: () => A; add: (accumulator: A, value: T) => A; merge?: (a: A, b: A) => A; result: (accumulator: A, key: K, window: Window) => R },
    options?: OperatorOptions,
  ): WindowResult<R, T> {
    for (const f of ['create', 'add', 'result'] as const) requireFunction(`operators.${name}.${f}`, fns?.[f]);
    if (this.settings.assigner.kind === 'session') requireFunction(`operators.${name}.merge`, fns.merge);
    const fn: WindowFunction = {
      kind: 'aggregate',
      create: fns.create,
      add: fns.add as (a: unknown, v: unknown) => unknown,
      ...(fns.merge ? { merge: fns.merge as (a: unknown, b: unknown) => unknown } : {}),
      result: fns.result as (a: unknown, k: unknown, w: Window) => unknown,
    };
    return this.append(name, fn, options);
  }

  /** Calls `fn` with all of a window's records when it fires. */
  process<R>(name: string, fn: (key: K, window: Window, elements: T[], emit: (value: R) => void) => void, options?: OperatorOptions): WindowResult<R, T> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.append(name, { kind: 'process', fn: fn as unknown as (k: unknown, w: Window, e: unknown[], emit: (v: unknown) => void) => void }, options);
  }
}

/** What a process function produces: its records, and its side outputs. */
export class ProcessResult<R> extends Stream<R> {
  constructor(
    graph: OperatorGraph,
    producers: readonly Producer[],
    private readonly sideOutputs: readonly string[],
  ) {
    super(graph, producers, null);
  }

  /** The records the function emitted with `ctx.output(tag, …)` (Flink's getSideOutput). */
  getSideOutput<O>(tag: OutputTag<O>): Stream<O> {
    if (!this.sideOutputs.includes(tag?.name)) {
      throw new ConfigError('getSideOutput', `${this.producers[0]?.from} declares no side output ${JSON.stringify(tag?.name)} (list it in sideOutputs)`);
    }
    return new Stream<O>(this.graph, this.producers.map((p) => ({ from: p.from, port: sideOutputPort(tag.name) })), null);
  }
}

/** What a window function produces; with `late: 'side-output'` also the late records. */
export class WindowResult<R, T> extends Stream<R> {
  constructor(
    graph: OperatorGraph,
    producers: readonly Producer[],
    partitioning: Partitioning | null,
    private readonly hasLateOutput: boolean,
  ) {
    super(graph, producers, partitioning);
  }

  /** Records too late for any window (Flink's sideOutputLateData). */
  lateRecords(): Stream<T> {
    if (!this.hasLateOutput) throw new ConfigError('window.late', "lateRecords() needs the window option late: 'side-output'");
    return new Stream<T>(this.graph, this.producers.map((p) => ({ from: p.from, port: 'late' as const })), null);
  }
}
