/**
 * A source that reads newline-delimited JSON, plain text lines or Parquet files (each row a
 * record, through hyparquet) from the objects under a prefix of the job's area in its bucket
 * (`jobs/<job>/<prefix>`). Offset = object + line (or row).
 *
 * The objects are listed once, when the first poll of a subtask is sent, and the listing is
 * kept in the subtask's offset: a subtask reads every p-th object (in key order) from line
 * 0 to the end, so a restore replays exactly the same records. A line that is not valid JSON,
 * or has no usable timestamp, goes to the job's dead-letter output with its object and line.
 */
import { parquetReadObjects } from 'hyparquet';
import { ConfigError, InvariantError } from '../core/errors.js';
import { requireInt } from '../core/config.js';
import type { SourceBatch, SourceIo, SourceReader } from '../core/graph.js';
import type { Source } from './sources.js';

export interface S3SourceOptions<T> {
  /** Under the job's area in its bucket, e.g. `input/clicks/`. */
  readonly prefix: string;
  /** `json`: one JSON value per line; `text`: each line is a string record; `parquet`: each
   *  row of a Parquet file is a record (an object of its columns). @default json */
  readonly format?: 'json' | 'text' | 'parquet';
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
  const settings = s3SourceSettings(options);
  const { prefix, format } = settings;
  const objects = new ObjectLines(format);
  const reader: SourceReader = {
    kind: `s3(${prefix},${format})`,
    input: { kind: 'objects', prefix },
    start: (): Offset => ({ keys: null, object: 0, line: 0 }),
    limits: (io, subtask, parallelism, offset) => listing(io, prefix, subtask, parallelism, offset as Offset),
    read: (_subtask, _parallelism, offset, max, io, limits) => readLines(settings, objects, io, offset as Offset, max, limits),
  };
  return { reader, batchSize: settings.batchSize };
}

interface Settings<T> {
  readonly prefix: string;
  readonly format: 'json' | 'text' | 'parquet';
  readonly batchSize: number;
  readonly timestamp: ((record: T) => number) | undefined;
}

function s3SourceSettings<T>(options: S3SourceOptions<T>): Settings<T> {
  const prefix = options.prefix;
  if (typeof prefix !== 'string' || prefix.startsWith('/') || prefix.includes('..')) {
    throw new ConfigError('s3Source.prefix', `must be a relative key prefix such as "input/clicks/", got ${JSON.stringify(prefix)}`);
  }
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'text' && format !== 'parquet') throw new ConfigError('s3Source.format', `must be 'json', 'text' or 'parquet', got ${JSON.stringify(format)}`);
  const batchSize = requireInt('s3Source.batchSize', options.batchSize ?? 1000, 1, 1_000_000);
  return { prefix, format, batchSize, timestamp: options.timestamp };
}

/** The limits of a subtask's first poll: its share of the objects, listed once and kept. */
async function listing(io: SourceIo, prefix: string, subtask: number, parallelism: number, offset: Offset): Promise<{ keys: string[] } | undefined> {
  if (offset.keys !== null) return undefined;
  const all = (await io.listObjects(prefix)).sort();
  return { keys: all.filter((_, i) => i % parallelism === subtask) };
}

/** At most `max` lines from `start` on, object after object of the subtask's listing. */
async function readLines<T>(s: Settings<T>, objects: ObjectLines, io: SourceIo, start: Offset, max: number, limits: unknown): Promise<SourceBatch> {
  const keys = start.keys ?? (limits as { keys?: string[] } | undefined)?.keys;
  // Must hold: a subtask's first poll carries `limits` (the listing), later offsets the keys.
  if (!keys) throw new InvariantError(`s3Source ${s.prefix}: the first poll carried no object listing`);
  const values: T[] = [];
  const timestamps: number[] = [];
  const rejected: { where: string; text: string; reason: string }[] = [];
  let { object, line } = start;
  let consumed = 0;
  while (consumed < max && object < keys.length) {
    const key = keys[object]!;
    const read = await objects.lines(io, key);
    if (read !== null && !Array.isArray(read)) {
      // A whole object that is not what the format says: dead-lettered as one, and skipped.
      rejected.push({ where: key, text: '', reason: read.unreadable });
      [object, line] = [object + 1, 0];
      continue;
    }
    const all = read ?? [];
    for (; line < all.length && consumed < max; line++, consumed++) {
      const entry = all[line]!;
      const parsed = parseLine(s, entry);
      if ('reason' in parsed) {
        rejected.push({ where: `${key}:${line + 1}`, text: typeof entry === 'string' ? entry : JSON.stringify(entry), reason: parsed.reason });
        continue;
      }
      if (s.timestamp) timestamps.push(parsed.ts!);
      values.push(parsed.value);
    }
    if (line >= all.length) {
      object++;
      line = 0;
    }
  }
  const next: Offset = { keys, object, line };
  return { values, ...(s.timestamp ? { timestamps } : {}), next, finished: object >= keys.length, ...(rejected.length ? { rejected } : {}) };
}

/** One line (or Parquet row) as a record and its event time, or why it goes to the dead-letter output. */
function parseLine<T>(s: Settings<T>, entry: string | unknown): { value: T; ts: number | undefined } | { reason: string } {
  let value: T;
  try {
    value = (s.format === 'json' ? JSON.parse(entry as string) : entry) as T;
  } catch (e) {
    return { reason: `not JSON: ${(e as Error).message}` };
  }
  if (!s.timestamp) return { value, ts: undefined };
  let ts: number;
  try {
    ts = s.timestamp(value);
  } catch (e) {
    return { reason: `timestamp failed: ${(e as Error).message}` };
  }
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return { reason: 'no timestamp' };
  return { value, ts };
}

/** The lines (or Parquet rows) of the objects read last, so that a poll resuming mid-object does not fetch it again. */
class ObjectLines {
  private readonly cache = new Map<string, unknown[]>();

  constructor(private readonly format: 'json' | 'text' | 'parquet') {}

  /** The object's lines, or rows; null when it is not there; why, when it cannot be read. */
  async lines(io: SourceIo, key: string): Promise<unknown[] | null | { unreadable: string }> {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const split = this.format === 'parquet' ? await parquetRows(io, key) : await textLines(io, key);
    if (split === null || !Array.isArray(split)) return split;
    this.cache.set(key, split);
    if (this.cache.size > CACHED_OBJECTS) this.cache.delete(this.cache.keys().next().value!);
    return split;
  }
}

async function textLines(io: SourceIo, key: string): Promise<string[] | null> {
  const body = await io.getObject(key);
  if (body === null) return null;
  const split = body.split('\n');
  if (split[split.length - 1] === '') split.pop();
  return split;
}

/** A Parquet file's rows, each an object of its columns; why, when it is not a Parquet file. */
async function parquetRows(io: SourceIo, key: string): Promise<unknown[] | null | { unreadable: string }> {
  const bytes = await io.getObjectBytes(key);
  if (bytes === null) return null;
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  try {
    return await parquetReadObjects({ file });
  } catch (e) {
    return { unreadable: `not a Parquet file: ${(e as Error).message}` };
  }
}
