/**
 * Windowed streams: `keyBy(...).window(assigner, options)` and its window functions.
 */
import type { Key } from '../core/keygroups.js';
import type { OperatorSpec, Partitioning, WindowFunction } from '../core/graph.js';
import type { Window, WindowAssigner } from '../core/windows.js';
import type { JobBuilder, OperatorOptions } from './job.js';
import { requireFunction, WindowResult, type Producer } from './stream.js';

/** A keyed stream cut into windows; a window function turns each window into results. */
export class WindowedStream<T, K extends Key> {
  constructor(
    private readonly builder: JobBuilder,
    private readonly producers: readonly Producer[],
    private readonly partitioning: Partitioning | null,
    private readonly settings: { assigner: WindowAssigner; allowedLateness: number; late: 'drop' | 'side-output' },
  ) {}

  /** Not `then`, which would make a windowed stream a thenable (see Stream.append). */
  private append<R>(name: string, fn: WindowFunction, options: OperatorOptions = {}): WindowResult<R, T> {
    const spec: OperatorSpec = { kind: 'window', ...this.settings, fn };
    const inputs = this.producers.map((p) => ({ ...p, partitioning: this.partitioning }));
    const op = this.builder.add(name, spec, inputs, options);
    return new WindowResult<R, T>(this.builder, [{ from: op.name }], null, this.settings.late === 'side-output');
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
    return this.append(
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
    return this.append(name, { kind: 'process', fn: fn as unknown as (k: unknown, w: Window, e: unknown[], emit: (v: unknown) => void) => void }, options);
  }
}

