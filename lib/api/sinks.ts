/**
 * Sinks users import. Exactly-once sinks stage their output per checkpoint and commit it
 * when the checkpoint completes (Flink's two-phase commit); readers see committed output only.
 */
import { ConfigError } from '../core/errors.js';
import type { Columns, ColumnType, SinkGuarantee, SinkSpec } from '../core/graph.js';

/** A sink says in its type whether it is exactly-once. */
export interface Sink<T, G extends SinkGuarantee = SinkGuarantee> {
  readonly spec: SinkSpec & { readonly guarantee: G };
  /** Phantom: the record type. */
  readonly __type?: T;
}

/**
 * Collects records into the job's blob store, committed per checkpoint. Read them back with
 * `readCommitted`. Meant for tests and small results.
 */
export const collect = <T>(): Sink<T, 'exactly-once'> => ({ spec: { kind: 'collect', guarantee: 'exactly-once' } });

/** Options of `s3Sink`. */
export interface S3SinkOptions<T> {
  /** Key prefix under the job's objects, e.g. "output/counts/". */
  readonly prefix: string;
  /** How each committed object holds its records. @default 'ndjson' */
  readonly format?: 'ndjson' | 'csv' | 'parquet';
  /** With 'csv' or 'parquet': the fields written, in order, each with its type. A record
   *  that does not fit is the sink's user error (onUserError decides) where it arrives. */
  readonly columns?: { readonly [F in keyof T & string]?: ColumnType };
}

const COLUMN_TYPES: readonly ColumnType[] = ['string', 'int', 'double', 'boolean', 'json'];

/**
 * Exactly-once S3 sink. Records are staged per checkpoint and, once it completes, committed
 * as one object per subtask and checkpoint — newline-delimited JSON, CSV (with a header) or
 * Parquet: `jobs/<job>/<prefix><checkpoint, 12 digits>-<subtask>.<ndjson|csv|parquet>`. An
 * object appears whole or not at all, and only for completed checkpoints: readers list the
 * prefix and read what is there. Staged data of checkpoints a restore abandoned is never
 * committed.
 */
export function s3Sink<T>(options: S3SinkOptions<T>): Sink<T, 'exactly-once'> {
  const prefix = options?.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.startsWith('/') || prefix.includes('..')) {
    throw new ConfigError('s3Sink.prefix', `must be a relative key prefix such as "output/counts/", got ${JSON.stringify(prefix)}`);
  }
  const kind = options.format ?? 'ndjson';
  if (kind === 'ndjson') {
    if (options.columns !== undefined) throw new ConfigError('s3Sink.columns', "are for format 'csv' or 'parquet'; NDJSON keeps whole records");
    return { spec: { kind: 's3', guarantee: 'exactly-once', prefix } };
  }
  if (kind !== 'csv' && kind !== 'parquet') throw new ConfigError('s3Sink.format', `must be 'ndjson', 'csv' or 'parquet', got ${JSON.stringify(kind)}`);
  return { spec: { kind: 's3', guarantee: 'exactly-once', prefix, format: { kind, columns: columnsOf(kind, options.columns) } } };
}

function columnsOf(kind: string, columns: Readonly<Record<string, ColumnType | undefined>> | undefined): Columns {
  const entries = Object.entries(columns ?? {});
  if (entries.length === 0) throw new ConfigError('s3Sink.columns', `a ${kind} sink needs its columns, e.g. { word: 'string', count: 'int' }`);
  return entries.map(([name, type]) => {
    if (!COLUMN_TYPES.includes(type as ColumnType)) throw new ConfigError(`s3Sink.columns.${name}`, `must be one of ${COLUMN_TYPES.join(', ')}, got ${JSON.stringify(type)}`);
    return [name, type as ColumnType] as const;
  });
}

/**
 * Exactly-once DynamoDB sink: after a checkpoint completes, each record is upserted by its key
 * into the job's table, conditional on the stored row coming from the same or an earlier
 * checkpoint — so a replayed transaction can never bring back an older value.
 */
export function dynamoSink<T>(options: { key: (record: T) => string | number }): Sink<T, 'exactly-once'> {
  if (typeof options?.key !== 'function') throw new ConfigError('dynamoSink.key', 'must be a function (record) => string | number');
  return { spec: { kind: 'dynamodb', guarantee: 'exactly-once', key: options.key as (r: unknown) => string | number } };
}

/** Prints records as they arrive (stdout; CloudWatch Logs on Lambda). At-least-once: a replay prints again. */
export const print = <T>(options: { prefix?: string } = {}): Sink<T, 'at-least-once'> => ({
  spec: { kind: 'print', guarantee: 'at-least-once', prefix: options.prefix ?? '' },
});
