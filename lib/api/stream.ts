/**
 * Streams: what the pipeline API's operators return. A stream remembers which operator
 * outputs it reads and how they are partitioned; each operator call adds a node to the job.
 */
import { ConfigError } from '../core/errors.js';
import { requireName, requireInt } from '../core/config.js';
import type { OperatorName } from '../core/ids.js';
import type { Key } from '../core/keygroups.js';
import type { OperatorSpec, OutputPort, Partitioning, ProcessContext } from '../core/graph.js';
import type { WindowAssigner } from '../core/windows.js';
import type { JobBuilder, OperatorOptions } from './job.js';
import type { Sink } from './sinks.js';
import type { KeyedProcessContext, StateDescriptor } from './state.js';
import { WindowedStream } from './windowed-stream.js';

/** An upstream operator's output a stream reads: its records, or a window's late records. */
export interface Producer {
  readonly from: OperatorName;
  readonly port?: OutputPort;
}

export function requireFunction(field: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new ConfigError(field, 'must be a function');
}

export class Stream<T> {
  constructor(
    protected readonly builder: JobBuilder,
    protected readonly producers: readonly Producer[],
    protected readonly partitioning: Partitioning | null,
  ) {}

  /** Adds the next operator. Never name a method `then`: a stream would become a thenable,
   *  and `await` (or returning it from an async function) would call it instead of
   *  resolving to the stream. */
  protected append<U>(name: string, spec: OperatorSpec, options: OperatorOptions = {}): Stream<U> {
    const inputs = this.producers.map((p) => ({ ...p, partitioning: this.partitioning }));
    const op = this.builder.add(name, spec, inputs, options);
    return new Stream<U>(this.builder, [{ from: op.name }], null);
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
    return new KeyedStream<T, K>(this.builder, this.producers, { type: 'hash', key: selector as (v: unknown) => unknown });
  }

  /** Round-robin to all downstream subtasks. */
  rebalance(): Stream<T> {
    return new Stream<T>(this.builder, this.producers, { type: 'rebalance' });
  }

  /** Every record to every downstream subtask. */
  broadcast(): Stream<T> {
    return new Stream<T>(this.builder, this.producers, { type: 'broadcast' });
  }

  /** Merges streams of the same type; the next operator reads all of them. */
  union(...others: Stream<T>[]): Stream<T> {
    for (const o of others) {
      if (o.builder !== this.builder) throw new ConfigError('union', 'streams belong to different jobs');
      if (o.partitioning !== null || this.partitioning !== null) throw new ConfigError('union', 'union streams before keyBy/rebalance/broadcast');
    }
    return new Stream<T>(this.builder, [...this.producers, ...others.flatMap((o) => o.producers)], null);
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
    return this.append(
      name,
      {
        kind: 'aggregate',
        create: fns.create,
        add: fns.add as (a: unknown, v: unknown) => unknown,
        result: fns.result as (a: unknown, k: unknown) => unknown,
      },
      options,
    );
  }

  /** A keyed process function with declared state (Flink's KeyedProcessFunction, without timers). */
  process<S extends Record<string, StateDescriptor>, R>(
    name: string,
    fn: { state: S; processElement: (value: T, ctx: KeyedProcessContext<K, S, R>) => void },
    options?: OperatorOptions,
  ): Stream<R> {
    requireFunction(`operators.${name}.processElement`, fn?.processElement);
    const state: Record<string, { kind: 'value' | 'map' }> = {};
    for (const [stateName, d] of Object.entries(fn.state ?? {})) {
      requireName(`operators.${name}.state.${stateName}`, stateName);
      if (d?.kind !== 'value' && d?.kind !== 'map') {
        throw new ConfigError(`operators.${name}.state.${stateName}`, 'must be valueState() or mapState()');
      }
      state[stateName] = { kind: d.kind };
    }
    const processElement = fn.processElement as unknown as (v: unknown, ctx: ProcessContext) => void;
    return this.append(name, { kind: 'process', state, fn: processElement }, options);
  }

  /**
   * Event-time windows per key. The records need timestamps and the source watermarks.
   * `allowedLateness` keeps a fired window open for late records (each re-fires it); records
   * later than that are dropped and counted, or, with `late: 'side-output'`, go to
   * `lateRecords()` of the window's result.
   */
  window(assigner: WindowAssigner, options: { allowedLateness?: number; late?: 'drop' | 'side-output' } = {}): WindowedStream<T, K> {
    const field = 'window';
    if (!assigner || !['tumbling', 'sliding', 'session'].includes((assigner as { kind?: string }).kind ?? '')) {
      throw new ConfigError(`${field}.assigner`, 'must be tumbling(), sliding() or session()');
    }
    const allowedLateness = requireInt(`${field}.allowedLateness`, options.allowedLateness ?? 0, 0);
    const late = options.late ?? 'drop';
    if (late !== 'drop' && late !== 'side-output') throw new ConfigError(`${field}.late`, `must be 'drop' or 'side-output', got ${JSON.stringify(late)}`);
    return new WindowedStream<T, K>(this.builder, this.producers, this.partitioning, { assigner, allowedLateness, late });
  }
}

/** What a window function produces; with `late: 'side-output'` also the late records. */
export class WindowResult<R, T> extends Stream<R> {
  constructor(
    builder: JobBuilder,
    producers: readonly Producer[],
    partitioning: Partitioning | null,
    private readonly hasLateOutput: boolean,
  ) {
    super(builder, producers, partitioning);
  }

  /** Records too late for any window (Flink's sideOutputLateData). */
  lateRecords(): Stream<T> {
    if (!this.hasLateOutput) throw new ConfigError('window.late', "lateRecords() needs the window option late: 'side-output'");
    return new Stream<T>(this.builder, this.producers.map((p) => ({ from: p.from, port: 'late' as const })), null);
  }
}

