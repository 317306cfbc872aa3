/**
 * The pipeline API: a small, typed builder in Flink's DataStream style. It only describes
 * the job; `build()` returns the JobGraph the runtime, the local host and the CDK construct
 * all compile. Invalid settings and graphs throw ConfigError naming the field at once.
 *
 *   const wc = job('wordcount', { parallelism: 2, checkpoints: { interval: 2000 } });
 *   wc.source('lines', generator({ count: 1000, make: (i) => lines[i % lines.length] }))
 *     .flatMap('split', (line) => line.split(' '))
 *     .keyBy((word) => word)
 *     .aggregate('count', { create: () => 0, add: (n) => n + 1, result: (n, word) => ({ word, n }) })
 *     .sink('out', collect());
 */
import {
  checkpointSettings,
  DEFAULT_BUFFER_BYTES,
  DEFAULT_MAX_PARALLELISM,
  KIB,
  MAX_BUFFER_BYTES,
  MAX_MAX_PARALLELISM,
  requireInt,
  requireName,
  restartStrategy,
  type CheckpointSettings,
  type RestartStrategy,
} from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { JobGraph, OperatorNode, OperatorSpec, OutputPort, Partitioning, ProcessContext, WindowFunction } from '../core/graph.js';
import type { WatermarkStrategy } from '../core/watermarks.js';
import type { Window, WindowAssigner } from '../core/windows.js';
import { jobName, operatorName, type OperatorName } from '../core/ids.js';
import type { Key } from '../core/keygroups.js';
import { compileTopology, validateParallelism } from '../core/topology.js';
import type { Sink } from './sinks.js';
import type { Source } from './sources.js';
import type { KeyedProcessContext, StateDescriptor } from './state.js';

export interface JobOptions {
  /** Default parallelism of every operator. @default 1 */
  readonly parallelism?: number;
  /** Number of key groups: the upper bound for any parallelism, fixed for the job's life. @default 128 */
  readonly maxParallelism?: number;
  readonly checkpoints?: Partial<CheckpointSettings>;
  /** @default exponential-delay, Flink's default with checkpointing */
  readonly restartStrategy?: RestartStrategy;
  /** Bytes of records one envelope (SQS message) carries. @default 256 KiB, at most 1 MiB */
  readonly bufferBytes?: number;
}

export interface OperatorOptions {
  /** @default the job's parallelism */
  readonly parallelism?: number;
  /** Start a new chain at this operator instead of running it in its upstream's task. */
  readonly startNewChain?: boolean;
}

export interface SourceOptions extends OperatorOptions {
  /** Event-time watermarks from the records' timestamps (Flink's WatermarkStrategy). */
  readonly watermarks?: WatermarkStrategy;
}

/** An upstream operator's output a stream reads: its records, or a window's late records. */
interface Producer {
  readonly from: OperatorName;
  readonly port?: OutputPort;
}

const JOB_OPTION_KEYS = ['parallelism', 'maxParallelism', 'checkpoints', 'restartStrategy', 'bufferBytes'];

export function job(name: string, options: JobOptions = {}): JobBuilder {
  return new JobBuilder(name, options);
}

export class JobBuilder {
  private readonly operators: OperatorNode[] = [];
  private readonly settings: Omit<JobGraph, 'operators'>;
  readonly defaultParallelism: number;

  constructor(name: string, options: JobOptions) {
    // Lower case only: the name becomes part of S3 bucket names.
    if (typeof name !== 'string' || !/^[a-z][a-z0-9-]{0,29}$/.test(name)) {
      throw new ConfigError('name', `must be 1-30 lower-case letters, digits or '-', starting with a letter; got ${JSON.stringify(name)}`);
    }
    for (const key of Object.keys(options)) {
      if (!JOB_OPTION_KEYS.includes(key)) throw new ConfigError(key, `is not a job option; known: ${JOB_OPTION_KEYS.join(', ')}`);
    }
    const maxParallelism = requireInt('maxParallelism', options.maxParallelism ?? DEFAULT_MAX_PARALLELISM, 1, MAX_MAX_PARALLELISM);
    this.defaultParallelism = options.parallelism ?? 1;
    validateParallelism('parallelism', this.defaultParallelism, maxParallelism);
    this.settings = {
      name: jobName(name),
      maxParallelism,
      bufferBytes: requireInt('bufferBytes', options.bufferBytes ?? DEFAULT_BUFFER_BYTES, 4 * KIB, MAX_BUFFER_BYTES),
      checkpoints: checkpointSettings(options.checkpoints),
      restart: restartStrategy(options.restartStrategy),
    };
  }

  get name(): string {
    return this.settings.name;
  }

  source<T>(name: string, source: Source<T>, options: SourceOptions = {}): Stream<T> {
    if (!source || typeof source.reader?.read !== 'function') {
      throw new ConfigError(`operators.${name}.source`, 'is not a source; use generator() or another source factory');
    }
    const watermarks = options.watermarks === undefined ? undefined : watermarkStrategy(`operators.${name}.watermarks`, options.watermarks);
    const spec: OperatorSpec = {
      kind: 'source',
      reader: source.reader,
      batchSize: source.batchSize,
      ...(source.rate === undefined ? {} : { rate: source.rate }),
      ...(watermarks ? { watermarks } : {}),
    };
    const op = this.add(name, spec, [], options);
    return new Stream<T>(this, [{ from: op.name }], null);
  }

  /** @internal used by streams */
  add(name: string, spec: OperatorSpec, inputs: { from: OperatorName; port?: OutputPort; partitioning: Partitioning | null }[], options: OperatorOptions): OperatorNode {
    const field = `operators.${name}`;
    requireName(field, name);
    if (this.operators.some((o) => o.name === name)) throw new ConfigError(field, 'duplicate operator name');
    const parallelism = options.parallelism ?? this.defaultParallelism;
    validateParallelism(`${field}.parallelism`, parallelism, this.settings.maxParallelism);
    const node: OperatorNode = {
      name: operatorName(name),
      spec,
      parallelism,
      chainable: !options.startNewChain,
      inputs: inputs.map((i) => {
        const upstream = this.operators.find((o) => o.name === i.from)!;
        const partitioning: Partitioning = i.partitioning ?? { type: upstream.parallelism === parallelism ? 'forward' : 'rebalance' };
        return { from: i.from, partitioning, ...(i.port && i.port !== 'main' ? { port: i.port } : {}) };
      }),
    };
    this.operators.push(node);
    return node;
  }

  /** The validated job graph (also compiles its topology, which checks the graph's shape). */
  build(): JobGraph {
    const graph: JobGraph = { ...this.settings, operators: [...this.operators] };
    if (graph.operators.length === 0) throw new ConfigError('operators', 'the job has no source');
    compileTopology(graph);
    return graph;
  }
}

function requireFunction(field: string, fn: unknown): void {
  if (typeof fn !== 'function') throw new ConfigError(field, 'must be a function');
}

export class Stream<T> {
  constructor(
    protected readonly builder: JobBuilder,
    protected readonly producers: readonly Producer[],
    protected readonly partitioning: Partitioning | null,
  ) {}

  protected then<U>(name: string, spec: OperatorSpec, options: OperatorOptions = {}): Stream<U> {
    const inputs = this.producers.map((p) => ({ ...p, partitioning: this.partitioning }));
    const op = this.builder.add(name, spec, inputs, options);
    return new Stream<U>(this.builder, [{ from: op.name }], null);
  }

  map<U>(name: string, fn: (value: T) => U, options?: OperatorOptions): Stream<U> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.then(name, { kind: 'map', fn: fn as (v: unknown) => unknown }, options);
  }

  filter(name: string, fn: (value: T) => boolean, options?: OperatorOptions): Stream<T> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.then(name, { kind: 'filter', fn: fn as (v: unknown) => boolean }, options);
  }

  flatMap<U>(name: string, fn: (value: T) => Iterable<U>, options?: OperatorOptions): Stream<U> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.then(name, { kind: 'flatMap', fn: fn as (v: unknown) => Iterable<unknown> }, options);
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
    this.then(name, { kind: 'sink', sink: sink.spec }, options);
  }
}

export class KeyedStream<T, K extends Key> extends Stream<T> {
  /** Rolling reduce per key: emits the new accumulated value after every record. */
  reduce(name: string, fn: (accumulator: T, value: T) => T, options?: OperatorOptions): Stream<T> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.then(name, { kind: 'reduce', fn: fn as (a: unknown, v: unknown) => unknown }, options);
  }

  /** Rolling aggregate per key with an accumulator of another type. */
  aggregate<A, R>(
    name: string,
    fns: { create: () => A; add: (accumulator: A, value: T) => A; result: (accumulator: A, key: K) => R },
    options?: OperatorOptions,
  ): Stream<R> {
    for (const f of ['create', 'add', 'result'] as const) requireFunction(`operators.${name}.${f}`, fns?.[f]);
    return this.then(
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
    return this.then(name, { kind: 'process', state, fn: processElement }, options);
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

/** A keyed stream cut into windows; a window function turns each window into results. */
export class WindowedStream<T, K extends Key> {
  constructor(
    private readonly builder: JobBuilder,
    private readonly producers: readonly Producer[],
    private readonly partitioning: Partitioning | null,
    private readonly settings: { assigner: WindowAssigner; allowedLateness: number; late: 'drop' | 'side-output' },
  ) {}

  private then<R>(name: string, fn: WindowFunction, options: OperatorOptions = {}): WindowResult<R, T> {
    const spec: OperatorSpec = { kind: 'window', ...this.settings, fn };
    const inputs = this.producers.map((p) => ({ ...p, partitioning: this.partitioning }));
    const op = this.builder.add(name, spec, inputs, options);
    return new WindowResult<R, T>(this.builder, [{ from: op.name }], null, this.settings.late === 'side-output');
  }

  /** Reduces each window's records to one (the result carries the window's last timestamp). */
  reduce(name: string, fn: (accumulator: T, value: T) => T, options?: OperatorOptions): WindowResult<T, T> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.then(name, { kind: 'reduce', fn: fn as (a: unknown, v: unknown) => unknown }, options);
  }

  /** Aggregates each window; session windows also need `merge`, since sessions merge. */
  aggregate<A, R>(
    name: string,
    fns: { create: () => A; add: (accumulator: A, value: T) => A; merge?: (a: A, b: A) => A; result: (accumulator: A, key: K, window: Window) => R },
    options?: OperatorOptions,
  ): WindowResult<R, T> {
    for (const f of ['create', 'add', 'result'] as const) requireFunction(`operators.${name}.${f}`, fns?.[f]);
    if (this.settings.assigner.kind === 'session') requireFunction(`operators.${name}.merge`, fns.merge);
    return this.then(
      name,
      {
        kind: 'aggregate',
        create: fns.create,
        add: fns.add as (a: unknown, v: unknown) => unknown,
        ...(fns.merge ? { merge: fns.merge as (a: unknown, b: unknown) => unknown } : {}),
        result: fns.result as (a: unknown, k: unknown, w: Window) => unknown,
      },
      options,
    );
  }

  /** Calls `fn` with all of a window's records when it fires. */
  process<R>(name: string, fn: (key: K, window: Window, elements: T[], emit: (value: R) => void) => void, options?: OperatorOptions): WindowResult<R, T> {
    requireFunction(`operators.${name}.fn`, fn);
    return this.then(name, { kind: 'process', fn: fn as unknown as (k: unknown, w: Window, e: unknown[], emit: (v: unknown) => void) => void }, options);
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

function watermarkStrategy(field: string, given: WatermarkStrategy): WatermarkStrategy {
  requireInt(`${field}.outOfOrderness`, given?.outOfOrderness, 0);
  if (given.idleness !== undefined) requireInt(`${field}.idleness`, given.idleness, 1);
  return { outOfOrderness: given.outOfOrderness, ...(given.idleness === undefined ? {} : { idleness: given.idleness }) };
}
