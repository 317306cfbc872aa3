/**
 * A source that reads newline-delimited JSON (or plain text lines) from the objects under a
 * prefix of the job's area in its bucket (`jobs/<job>/<prefix>`). Offset = object + line.
 *
 * The objects are listed once, when the first poll of a subtask is sent, and the listing is
 * kept in the subtask's offset: a subtask reads every p-th object (in key order) from line
 * 0 to the end, so a restore replays exactly the same records. A line that is not valid JSON,
 * or has no usable timestamp, goes to the job's dead-letter output with its object and line.
 */
import { ConfigError } from '../core/errors.js';
import { requireInt } from '../core/config.js';
import type { SourceBatch, SourceIo, SourceReader } from '../core/graph.js';
import type { Source } from './sources.js';

export interface S3SourceOptions<T> {
  /** Under the job's area in its bucket, e.g. `input/clicks/`. */
  readonly prefix: string;
  /** `json`: one JSON value per line; `text`: each line is a string record. @default json */
  readonly format?: 'json' | 'text';
  /** Event time of a record, in ms; a line without one is dead-lettered. @default no event time */
  readonly timestamp?: (record: T) => number;
  /** Lines per poll. @default 1000 */
  readonly batchSize?: number;
}

interface Offset {
  readonly keys: readonly string[] | null;
  readonly object: number;
  readonly line: number;
}

/** Objects kept parsed in memory per container, most recent last. */
const CACHED_OBJECTS = 4;

export function s3Source<T = unknown>(options: S3SourceOptions<T>): Source<T> {
  const prefix = options.prefix;
  if (typeof prefix !== 'string' || prefix.startsWith('/') || prefix.includes('..')) {
    throw new ConfigError('s3Source.prefix', `must be a relative key prefix such as "input/clicks/", got ${JSON.stringify(prefix)}`);
  }
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'text') throw new ConfigError('s3Source.format', `must be 'json' or 'text', got ${JSON.stringify(format)}`);
  const batchSize = requireInt('s3Source.batchSize', options.batchSize ?? 1000, 1, 1_000_000);
  const { timestamp } = options;
  const cache = new Map<string, string[]>();

  async function lines(io: SourceIo, key: string): Promise<string[] | null> {
    const hit = cache.get(key);
    if (hit) return hit;
    const body = await io.getObject(key);
    if (body === null) return null;
    const split = body.split('\n');
    if (split[split.length - 1] === '') split.pop();
    cache.set(key, split);
    if (cache.size > CACHED_OBJECTS) cache.delete(cache.keys().next().value!);
    return split;
  }

  const reader: SourceReader = {
    kind: `s3(${prefix},${format})`,
    input: { kind: 'objects', prefix },
    start: (): Offset => ({ keys: null, object: 0, line: 0 }),
    async limits(io, subtask, parallelism, offset) {
      if ((offset as Offset).keys !== null) return undefined;
      const all = (await io.listObjects(prefix)).sort();
      return { keys: all.filter((_, i) => i % parallelism === subtask) };
    },
    async read(_subtask, _parallelism, raw, max, io, limits): Promise<SourceBatch> {
      const start = raw as Offset;
      const keys = start.keys ?? (limits as { keys?: string[] } | undefined)?.keys;
      if (!keys) throw new Error(`s3Source ${prefix}: the first poll carried no object listing`);
      const values: T[] = [];
      const timestamps: number[] = [];
      const rejected: { where: string; text: string; reason: string }[] = [];
      let { object, line } = start;
      let consumed = 0;
      while (consumed < max && object < keys.length) {
        const key = keys[object]!;
        const all = (await lines(io, key)) ?? [];
        for (; line < all.length && consumed < max; line++, consumed++) {
          const text = all[line]!;
          const where = `${key}:${line + 1}`;
          let value: T;
          try {
            value = (format === 'json' ? JSON.parse(text) : text) as T;
          } catch (e) {
            rejected.push({ where, text, reason: `not JSON: ${(e as Error).message}` });
            continue;
          }
          if (timestamp) {
            let ts: number;
            try {
              ts = timestamp(value);
            } catch (e) {
              rejected.push({ where, text, reason: `timestamp failed: ${(e as Error).message}` });
              continue;
            }
            if (typeof ts !== 'number' || !Number.isFinite(ts)) {
              rejected.push({ where, text, reason: 'no timestamp' });
              continue;
            }
            timestamps.push(ts);
          }
          values.push(value);
        }
        if (line >= all.length) {
          object++;
          line = 0;
        }
      }
      const next: Offset = { keys, object, line };
      return { values, ...(timestamp ? { timestamps } : {}), next, finished: object >= keys.length, ...(rejected.length ? { rejected } : {}) };
    },
  };
  return { reader, batchSize };
}
