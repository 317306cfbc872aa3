/**
 * Sinks users import. Exactly-once sinks stage their output per checkpoint and commit it
 * when the checkpoint completes (Flink's two-phase commit); readers see committed output only.
 */
import { ConfigError } from '../core/errors.js';
import type { SinkGuarantee, SinkSpec } from '../core/graph.js';

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

/**
 * Exactly-once S3 sink. Records are staged per checkpoint and, once it completes, committed
 * as one newline-delimited JSON object per subtask and checkpoint:
 * `jobs/<job>/<prefix><checkpoint, 12 digits>-<subtask>.ndjson`. An object appears whole or not
 * at all, and only for completed checkpoints: readers list the prefix and read what is there.
 * Staged data of checkpoints a restore abandoned is never committed.
 */
export function s3Sink<T>(options: { prefix: string }): Sink<T, 'exactly-once'> {
  const prefix = options?.prefix;
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.startsWith('/') || prefix.includes('..')) {
    throw new ConfigError('s3Sink.prefix', `must be a relative key prefix such as "output/counts/", got ${JSON.stringify(prefix)}`);
  }
  return { spec: { kind: 's3', guarantee: 'exactly-once', prefix } };
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
