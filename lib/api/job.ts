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
import type { JobGraph, OperatorNode, OperatorSpec, Partitioning, ProcessContext } from '../core/graph.js';
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

  source<T>(name: string, source: Source<T>, options: OperatorOptions = {}): Stream<T> {
    if (!source || typeof source.reader?.read !== 'function') {
      throw new ConfigError(`operators.${name}.source`, 'is not a source; use generator() or another source factory');
    }
    const spec: OperatorSpec = { kind: 'source', reader: source.reader, batchSize: source.batchSize, ...(source.rate === undefined ? {} : { rate: source.rate }) };
    const op = this.add(name, spec, [], options);
    return new Stream<T>(this, [op.name], null);
  }

  /** @internal used by streams */
  add(name: string, spec: OperatorSpec, inputs: { from: OperatorName; partitioning: Partitioning | null }[], options: OperatorOptions): OperatorNode {
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
        return { from: i.from, partitioning };
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
    protected readonly producers: readonly OperatorName[],
    protected readonly partitioning: Partitioning | null,
  ) {}

  protected then<U>(name: string, spec: OperatorSpec, options: OperatorOptions = {}): Stream<U> {
    const inputs = this.producers.map((from) => ({ from, partitioning: this.partitioning }));
    const op = this.builder.add(name, spec, inputs, options);
    return new Stream<U>(this.builder, [op.name], null);
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
}
