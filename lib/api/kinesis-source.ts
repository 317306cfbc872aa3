/**
 * A source over a Kinesis data stream: shards are the splits, a subtask's offset keeps the
 * sequence numbers of its shards, a poll's limits what it observed of them when it was sent
 * (core/kinesis-shards.ts says why a replay reads the same records), and resharding is followed: a child shard is read only once its parents are
 * read to their end. A record that is not valid JSON (format `json`), or has no usable
 * timestamp, goes to the dead-letter output as `<stream>/<shard>@<sequence number>`.
 *
 * Sending a poll reads each taken shard once (GetRecords of up to `batchSize`) and lists the
 * stream's shards (ListShards; the job area's markers of finished shards only while a shard
 * waits for a parent); the poll then reads again what it emits. Twice the reads, and a new
 * shard's first records a poll later, are the price of exact replay.
 */
import { ConfigError, InvariantError, TransientStorageError } from '../core/errors.js';
import { requireInt, requireName } from '../core/config.js';
import type { SourceBatch, SourceIo, SourceReader } from '../core/graph.js';
import {
  advance,
  compareSeq,
  discover,
  drained,
  emitted,
  FRESH,
  observe,
  readOrder,
  START,
  type KinesisLimits,
  type KinesisOffset,
  type ShardObserved,
  type ShardPosition,
  type StreamRecord,
} from '../core/kinesis-shards.js';
import { jobAreaKeys } from '../core/wire/storage-keys.js';
import { decodeRecord } from './source-records.js';
import type { Source } from './sources.js';

export interface KinesisSourceOptions<T> {
  /** The stream's name (in the job's account and region; the construct's `kinesisStreams` grants the read). */
  readonly stream: string;
  /** Shards the stream gets when tooling creates it (the inputs of a local run); the job
   *  reads whatever shards the stream has. @default 1 */
  readonly shards?: number;
  /** `json`: each record's data is one JSON value; `text`: a string record. @default json */
  readonly format?: 'json' | 'text';
  /** Event time of a record, in ms: a function of the record, or `'arrival'` for the time
   *  Kinesis recorded it arriving (ApproximateArrivalTimestamp). @default no event time */
  readonly timestamp?: ((record: T) => number) | 'arrival';
  /** Records per poll (at most 10,000, a GetRecords call's limit). @default 1000 */
  readonly batchSize?: number;
  /** Finish once everything in the stream was read, as the source found it (a batch job,
   *  or a test) instead of waiting for more. @default false */
  readonly bounded?: boolean;
}

interface Settings<T> {
  readonly stream: string;
  readonly format: 'json' | 'text';
  readonly timestamp: ((record: T) => number) | 'arrival' | undefined;
  readonly bounded: boolean;
}

type Rejected = { where: string; text: string; reason: string };

export function kinesisSource<T = unknown>(options: KinesisSourceOptions<T>): Source<T> & { readonly stream: string } {
  const stream = requireName('kinesisSource.stream', options.stream);
  const shards = requireInt('kinesisSource.shards', options.shards ?? 1, 1, 10_000);
  const batchSize = requireInt('kinesisSource.batchSize', options.batchSize ?? 1000, 1, 10_000);
  const format = options.format ?? 'json';
  if (format !== 'json' && format !== 'text') throw new ConfigError('kinesisSource.format', `must be 'json' or 'text', got ${JSON.stringify(format)}`);
  const timestamp = options.timestamp;
  if (timestamp !== undefined && timestamp !== 'arrival' && typeof timestamp !== 'function') {
    throw new ConfigError('kinesisSource.timestamp', "must be a function of the record or 'arrival'");
  }
  const settings: Settings<T> = { stream, format, timestamp, bounded: options.bounded === true };
  const reader: SourceReader = {
    kind: `kinesis(${stream},${format}${settings.bounded ? ',bounded' : ''})`,
    input: { kind: 'stream', stream, shards },
    start: (): KinesisOffset => START,
    limits: (io, subtask, parallelism, offset) => observeShards(stream, io, subtask, parallelism, offset as KinesisOffset, batchSize),
    read: (_subtask, _parallelism, offset, max, io, limits) => readShards(settings, io, offset as KinesisOffset, max, limits as KinesisLimits | undefined),
  };
  return { reader, batchSize, stream };
}

/** When a poll is sent: how far each taken shard goes now (one read of up to `lookahead`), and the shards to take. */
async function observeShards(stream: string, io: SourceIo, subtask: number, parallelism: number, offset: KinesisOffset, lookahead: number): Promise<KinesisLimits> {
  const shards: Record<string, ShardObserved> = {};
  for (const id of readOrder(offset)) {
    const after = offset.shards[id]!.after;
    shards[id] = observe(after, await io.readShard(stream, id, after, lookahead));
  }
  const { take, pending } = await takeable(stream, io, offset, subtask, parallelism);
  return { shards, take, pending };
}

/** One poll: of each taken shard, the records its limits saw (`room` in all); then the shards they said to take. */
async function readShards<T>(s: Settings<T>, io: SourceIo, offset: KinesisOffset, max: number, limits: KinesisLimits | undefined): Promise<SourceBatch> {
  const none = s.timestamp ? { timestamps: [] } : {};
  if (s.bounded && offset.caughtUp) return { values: [], ...none, next: offset, finished: true };
  // Must hold: every poll carries the limits its reader's `limits` made from this offset.
  if (!limits) throw new InvariantError(`kinesisSource ${s.stream}: a poll carried no limits`);
  const shards: Record<string, ShardPosition> = { ...offset.shards };
  const values: T[] = [];
  const timestamps: number[] = [];
  const rejected: Rejected[] = [];
  const markers: string[] = [];
  let drainedAll = true;
  for (const id of readOrder(offset)) {
    const before = shards[id]!;
    const observed = limits.shards[id] ?? { seen: before.after, end: false, atTip: false };
    const room = max - values.length - rejected.length;
    const emit = room <= 0 ? [] : emitted(await readThrough(s.stream, io, id, before.after, observed.seen, room), observed.seen, room);
    for (const record of emit) parseRecord(s, id, record, values, timestamps, rejected);
    const position = advance(before, observed, emit);
    shards[id] = position;
    drainedAll &&= drained(position, observed);
    if (position.finished && !before.finished) markers.push(jobAreaKeys.finishedShard(s.stream, id));
  }
  for (const id of limits.take) shards[id] ??= FRESH;
  const caughtUp = drainedAll && limits.take.length === 0 && limits.pending.length === 0;
  const moved = values.length + rejected.length > 0;
  const next: KinesisOffset = { shards, turn: offset.turn + (moved ? 1 : 0), caughtUp };
  return { values, ...(s.timestamp ? { timestamps } : {}), next, finished: false, ...(rejected.length ? { rejected } : {}), ...(markers.length ? { markers } : {}) };
}

/** A Kinesis read may return fewer records than asked, even none, while more are there. */
const MAX_SHORT_READS = 20;

/**
 * The shard's records after `after` up to `seen` (at most `room` of them), reading on past
 * short reads: they exist (the poll's limits saw them), and the poll must emit them all.
 */
async function readThrough(stream: string, io: SourceIo, shard: string, after: string | null, seen: string | null, room: number): Promise<StreamRecord[]> {
  const records: StreamRecord[] = [];
  const last = () => (records.length > 0 ? records[records.length - 1]!.seq : after);
  const owed = () => seen !== null && records.length < room && (last() === null || compareSeq(last()!, seen) < 0);
  for (let short = 0; owed(); ) {
    const read = await io.readShard(stream, shard, last(), room - records.length);
    records.push(...read.records);
    if (read.end) break;
    if (read.records.length === 0 && ++short > MAX_SHORT_READS) {
      throw new TransientStorageError(`kinesis ${stream} ${shard}: records up to ${seen} did not come back in ${MAX_SHORT_READS} reads`);
    }
  }
  return records;
}

/** The shards to take and those waiting; the markers of other subtasks are listed only when some shard waits. */
async function takeable(stream: string, io: SourceIo, offset: KinesisOffset, subtask: number, parallelism: number) {
  const listing = await io.listShards(stream);
  const alone = discover(offset, listing, new Set(), subtask, parallelism);
  if (alone.pending.length === 0) return alone;
  const prefix = jobAreaKeys.finishedShardsPrefix(stream);
  const elsewhere = new Set((await io.listObjects(prefix)).map((key) => jobAreaKeys.shardOfFinished(stream, key)));
  return discover(offset, listing, elsewhere, subtask, parallelism);
}

function parseRecord<T>(s: Settings<T>, shard: string, record: StreamRecord, values: T[], timestamps: number[], rejected: Rejected[]): void {
  const timestamp = s.timestamp === 'arrival' ? () => record.arrival : s.timestamp;
  const decoded = decodeRecord(record.data, s.format === 'json', timestamp);
  if ('reason' in decoded) return void rejected.push({ where: `${s.stream}/${shard}@${record.seq}`, text: record.data, reason: decoded.reason });
  if (timestamp) timestamps.push(decoded.ts!);
  values.push(decoded.value);
}
