/**
 * Stream store port: Kinesis Data Streams semantics, what the Kinesis source reads.
 *
 * A stream is a set of shards; a shard holds records in sequence-number order (numbers are
 * decimal strings, compared as integers). Resharding closes shards and opens children: a
 * split gives one parent two children, a merge gives two parents one child; a closed shard
 * stays readable (until retention removes it), and no record is ever added to it again.
 *
 * Guarantees: records once readable never change, so reading a shard after the same
 * sequence number gives the same records, in the same order, followed by newer ones.
 */
import type { ShardRead, StreamShard } from '../core/kinesis-shards.js';

export type { ShardRead, StreamRecord, StreamShard } from '../core/kinesis-shards.js';

export interface StreamStore {
  /** Every shard of the stream, closed ones included, by id. */
  listShards(stream: string): Promise<StreamShard[]>;
  /** At most `max` records with a sequence number above `after` (from the first, when null). */
  readShard(stream: string, shard: string, after: string | null, max: number): Promise<ShardRead>;
  /** Tooling (inputs of a local run, tests): creates the stream when it is absent. */
  ensureStream(stream: string, shards: number): Promise<void>;
  /** Tooling: writes records (routed by the hash of their partition key); their sequence numbers. */
  put(stream: string, records: readonly { readonly partitionKey: string; readonly data: string }[]): Promise<string[]>;
}
