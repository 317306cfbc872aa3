/**
 * Sources users import. A source must be replayable: reading from the same offset always
 * gives the same records, because a restore rewinds to the offsets in the snapshot.
 */
import { ConfigError } from '../core/errors.js';
import { requireInt, requireNumber } from '../core/config.js';
import type { SourceBatch, SourceReader } from '../core/graph.js';
import { randomFor, type Random } from '../core/rng.js';

export interface Source<T> {
  readonly reader: SourceReader;
  /** Most records one poll reads. */
  readonly batchSize: number;
  /** Records per second over all subtasks, or undefined for as fast as downstream takes them. */
  readonly rate?: number;
  /** Phantom: the record type. */
  readonly __type?: T;
}

export interface GeneratorOptions<T> {
  /** Records in all; omit for an unbounded source. */
  readonly count?: number;
  /** @default 0 */
  readonly seed?: number;
  /** Records per second over all subtasks. @default unlimited */
  readonly rate?: number;
  /** Records per poll. @default 1000 */
  readonly batchSize?: number;
  /** Record `index` (0-based, global); `random` is seeded by (seed, index). */
  readonly make: (index: number, random: Random) => T;
  /** Event time of record `index`, in ms. @default no event time */
  readonly timestamp?: (index: number, value: T) => number;
}

/**
 * A deterministic generator. Subtask i of p emits the global indexes i, i + p, i + 2p, …;
 * its offset is how many it has emitted.
 */
export function generator<T>(options: GeneratorOptions<T>): Source<T> {
  const count = options.count === undefined ? undefined : requireInt('generator.count', options.count, 0);
  const seed = requireInt('generator.seed', options.seed ?? 0, 0, 2 ** 32 - 1);
  const batchSize = requireInt('generator.batchSize', options.batchSize ?? 1000, 1, 1_000_000);
  const rate = options.rate === undefined ? undefined : requireNumber('generator.rate', options.rate, Number.MIN_VALUE);
  if (typeof options.make !== 'function') throw new ConfigError('generator.make', 'must be a function (index, random) => record');
  const { make, timestamp } = options;
  const reader: SourceReader = {
    kind: `generator(seed=${seed},count=${count ?? 'unbounded'})`,
    start: () => 0,
    read(subtask, parallelism, offset, max): SourceBatch {
      const values: T[] = [];
      const timestamps: number[] | undefined = timestamp ? [] : undefined;
      let k = offset as number;
      for (; values.length < max; k++) {
        const index = k * parallelism + subtask;
        if (count !== undefined && index >= count) break;
        // The seeded stream is made only if the record asks for it.
        let random: Random | undefined;
        const value = make(index, () => (random ??= randomFor(seed, index))());
        values.push(value);
        timestamps?.push(timestamp!(index, value));
      }
      const finished = count !== undefined && k * parallelism + subtask >= count;
      return { values, next: k, finished, ...(timestamps ? { timestamps } : {}) };
    },
  };
  return { reader, batchSize, ...(rate === undefined ? {} : { rate }) };
}
