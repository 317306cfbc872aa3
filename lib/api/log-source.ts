/**
 * A source over a partitioned append-only log kept in the job's DynamoDB table: records go
 * in with `ingest` (or `tidemark ingest`), which gives each a contiguous offset in its
 * partition. Subtask i reads partitions i, i + p, …; its offset is the next offset per
 * partition. A poll reads only below the partitions' heads as they were when the poll was
 * sent (its limits), so a retried poll reads the same records even while ingestion goes on.
 * Unbounded unless `bounded`: then a subtask finishes once it has read its partitions up
 * to their heads as they were when a poll was sent (what was ingested before). A record that
 * is not valid JSON, or has no usable timestamp, goes to the dead-letter output with its
 * partition and offset.
 */
import { ConfigError } from '../core/errors.js';
import { requireInt, requireName } from '../core/config.js';
import type { SourceBatch, SourceReader } from '../core/graph.js';
import { decodeRecord } from './source-records.js';
import type { Source } from './sources.js';

export interface LogSourceOptions<T> {
  /** The log's name (records are ingested under it). */
  readonly log: string;
  readonly partitions: number;
  /** Event time of a record, in ms. @default no event time */
  readonly timestamp?: (record: T) => number;
  /** Records per poll. @default 1000 */
  readonly batchSize?: number;
  /** Finish at the end of what is in the log (a batch job) instead of waiting for more. @default false */
  readonly bounded?: boolean;
}

type Offsets = Record<string, number>;

export function logSource<T = unknown>(options: LogSourceOptions<T>): Source<T> & { readonly log: string; readonly partitions: number } {
  const log = requireName('logSource.log', options.log);
  const partitions = requireInt('logSource.partitions', options.partitions, 1, 10_000);
  const batchSize = requireInt('logSource.batchSize', options.batchSize ?? 1000, 1, 1_000_000);
  if (options.timestamp !== undefined && typeof options.timestamp !== 'function') throw new ConfigError('logSource.timestamp', 'must be a function');
  const { timestamp } = options;
  const mine = (subtask: number, parallelism: number) => Array.from({ length: partitions }, (_, q) => q).filter((q) => q % parallelism === subtask);

  const reader: SourceReader = {
    kind: `log(${log},${partitions}${options.bounded ? ',bounded' : ''})`,
    input: { kind: 'log', log, partitions },
    start: (subtask, parallelism): Offsets => Object.fromEntries(mine(subtask, parallelism).map((q) => [q, 0])),
    async limits(io, subtask, parallelism) {
      const heads: Offsets = {};
      for (const q of mine(subtask, parallelism)) heads[q] = await io.logHead(log, q);
      return heads;
    },
    async read(subtask, parallelism, raw, max, io, limits): Promise<SourceBatch> {
      const next: Offsets = { ...(raw as Offsets) };
      const heads = (limits ?? {}) as Offsets;
      const values: T[] = [];
      const timestamps: number[] = [];
      const rejected: { where: string; text: string; reason: string }[] = [];
      for (const q of mine(subtask, parallelism)) {
        const room = max - values.length - rejected.length;
        if (room <= 0) break;
        const from = next[q] ?? 0;
        const below = heads[q] ?? from;
        if (below <= from) continue;
        for (const entry of await io.readLog(log, q, from, below, room)) {
          next[q] = entry.offset + 1;
          const decoded = decodeRecord(entry.value, true, timestamp);
          if ('reason' in decoded) {
            rejected.push({ where: `${log}/${q}@${entry.offset}`, text: entry.value, reason: decoded.reason });
            continue;
          }
          if (timestamp) timestamps.push(decoded.ts!);
          values.push(decoded.value);
        }
      }
      const atHeads = mine(subtask, parallelism).every((q) => (next[q] ?? 0) >= (heads[q] ?? 0));
      return { values, ...(timestamp ? { timestamps } : {}), next, finished: options.bounded === true && atHeads, ...(rejected.length ? { rejected } : {}) };
    },
  };
  return { reader, batchSize, log, partitions };
}
