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
  userErrorPolicy,
  type CheckpointSettings,
  type RestartStrategy,
  type UserErrorPolicy,
} from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { validateParallelism, type JobGraph, type OperatorNode, type OperatorSpec, type Partitioning } from '../core/graph.js';
import type { WatermarkStrategy } from '../core/watermarks.js';
import { jobName, operatorName } from '../core/ids.js';
import { compileTopology } from '../core/topology.js';
import type { OperatorGraph, OperatorOptions, ProducerInput } from './operator-graph.js';
import type { Source } from './sources.js';
import { Stream } from './stream.js';

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
  /**
   * A record a user function throws on (map, filter, flatMap, keyBy, reduce, aggregate,
   * process, a window's add): `'fail'` fails the job over, as Flink does, and the restart
   * strategy decides; the job item's `lastFailure` names the operator, subtask, error and
   * record. `'dead-letter'` skips the record at that operator, undoing what the failing call
   * did to state and emitted, and writes it with the operator, subtask and error to
   * `jobs/<job>/dead-letters/<operator>/`; the job carries on. Errors not tied to one record
   * (a window firing, a record too big for a buffer, a source's reader) always fail over.
   * @default 'fail'
   */
  readonly onUserError?: UserErrorPolicy;
}

export interface SourceOptions extends OperatorOptions {
  /** Event-time watermarks from the records' timestamps (Flink's WatermarkStrategy). */
  readonly watermarks?: WatermarkStrategy;
}

const JOB_OPTION_KEYS = ['parallelism', 'maxParallelism', 'checkpoints', 'restartStrategy', 'bufferBytes', 'onUserError'];

export function job(name: string, options: JobOptions = {}): JobBuilder {
  return new JobBuilder(name, options);
}

export class JobBuilder implements OperatorGraph {
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
      onUserError: userErrorPolicy(options.onUserError),
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

  /** @internal used by streams (OperatorGraph) */
  add(name: string, spec: OperatorSpec, inputs: readonly ProducerInput[], options: OperatorOptions): OperatorNode {
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
      onUserError: this.settings.onUserError,
      inputs: inputs.map((i) => {
        const upstream = this.operators.find((o) => o.name === i.from)!;
        const partitioning: Partitioning = i.partitioning ?? { type: upstream.parallelism === parallelism ? 'forward' : 'rebalance' };
        return { from: i.from, partitioning, ...(i.port && i.port !== 'main' ? { port: i.port } : {}), ...(i.input === 2 ? { input: 2 as const } : {}) };
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

function watermarkStrategy(field: string, given: WatermarkStrategy): WatermarkStrategy {
  requireInt(`${field}.outOfOrderness`, given?.outOfOrderness, 0);
  if (given.idleness !== undefined) requireInt(`${field}.idleness`, given.idleness, 1);
  return { outOfOrderness: given.outOfOrderness, ...(given.idleness === undefined ? {} : { idleness: given.idleness }) };
}
