/**
 * A source over a Kinesis data stream: shards are the splits, a subtask's offset keeps the
 * sequence numbers of its shards (core/kinesis-shards.ts says how a replay reads the same
 * records), and resharding is followed: a child shard is read only once its parents are
 * read to their end. A record that is not valid JSON (format `json`), or has no usable
 * timestamp, goes to the dead-letter output as `<stream>/<shard>@<sequence number>`.
 *
 * Each read lists the stream's shards (ListShards), and the job area's markers of finished
 * shards only while a shard waits for a parent. Records are emitted one read after they
 * were first seen (see kinesis-shards.ts), so a poll interval of latency is the price of
 * exact replay.
 */
import { ConfigError, TransientStorageError } from '../core/errors.js';
import { requireInt, requireName } from '../core/config.js';
import type { SourceBatch, SourceIo, SourceReader } from '../core/graph.js';
import {
  advance,
  boundedEnd,
  compareSeq,
  discover,
  FRESH,
  isFinished,
  readOrder,
  START,
  unread,
  type KinesisOffset,
  type ShardPosition,
  type ShardRead,
  type StreamRecord,
} from '../core/kinesis-shards.js';
import { jobAreaKeys } from '../core/wire/storage-keys.js';
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
    read: (subtask, parallelism, offset, max, io) => readShards(settings, io, subtask, parallelism, offset as KinesisOffset, max),
  };
  return { reader, batchSize, stream };
}

/** One poll: records of the taken shards (what earlier reads saw), then shards newly takeable. */
async function readShards<T>(s: Settings<T>, io: SourceIo, subtask: number, parallelism: number, offset: KinesisOffset, max: number): Promise<SourceBatch> {
  if (s.bounded && boundedEnd(offset)) return { values: [], ...(s.timestamp ? { timestamps: [] } : {}), next: offset, finished: true };
  const shards: Record<string, ShardPosition> = { ...offset.shards };
  const values: T[] = [];
  const timestamps: number[] = [];
  const rejected: Rejected[] = [];
  const markers: string[] = [];
  for (const id of readOrder(offset)) {
    const before = shards[id]!;
    const room = max - values.length - rejected.length;
    if (room <= 0) {
      shards[id] = unread(before);
      continue;
    }
    const read = await readThrough(s.stream, io, id, before, room, max);
    const { emit, position } = advance(before, read, room);
    for (const record of emit) parseRecord(s, id, record, values, timestamps, rejected);
    shards[id] = position;
    if (isFinished(position) && !isFinished(before)) markers.push(jobAreaKeys.finishedShard(s.stream, id));
  }
  const found = await takeable(s.stream, io, { ...offset, shards }, subtask, parallelism);
  for (const id of found.take) shards[id] = FRESH;
  const moved = values.length + rejected.length > 0;
  const next: KinesisOffset = { shards, pending: found.pending, listed: true, turn: offset.turn + (moved ? 1 : 0) };
  return {
    values,
    ...(s.timestamp ? { timestamps } : {}),
    next,
    finished: false,
    ...(rejected.length ? { rejected } : {}),
    ...(markers.length ? { markers } : {}),
  };
}

/** A Kinesis read may return fewer records than asked, even none, while more are there. */
const MAX_SHORT_READS = 20;

/**
 * The shard's records after `position.after`: every one up to `seen` (or `room` of them),
 * reading on past short reads so that what is emitted depends on the offset alone, and what
 * the last read found beyond, which the next poll may emit (up to `lookahead` more).
 */
async function readThrough(stream: string, io: SourceIo, shard: string, position: ShardPosition, room: number, lookahead: number): Promise<ShardRead> {
  const { seen } = position;
  const records: StreamRecord[] = [];
  const owed = () => seen !== null && records.filter((r) => compareSeq(r.seq, seen) <= 0).length < room && (records.length === 0 ? position.after !== seen : compareSeq(records[records.length - 1]!.seq, seen) < 0);
  for (let short = 0; ; ) {
    const after = records.length > 0 ? records[records.length - 1]!.seq : position.after;
    const read = await io.readShard(stream, shard, after, room + lookahead - records.length);
    records.push(...read.records);
    if (read.end || !owed()) return { records, end: read.end, atTip: read.atTip };
    if (read.records.length === 0 && ++short > MAX_SHORT_READS) {
      throw new TransientStorageError(`kinesis ${stream} ${shard}: records up to ${seen} did not come back in ${MAX_SHORT_READS} reads`);
    }
  }
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
  const where = `${s.stream}/${shard}@${record.seq}`;
  let value: T;
  try {
    value = (s.format === 'json' ? JSON.parse(record.data) : record.data) as T;
  } catch (e) {
    rejected.push({ where, text: record.data, reason: `not JSON: ${(e as Error).message}` });
    return;
  }
  if (s.timestamp) {
    const ts = s.timestamp === 'arrival' ? record.arrival : s.timestamp(value);
    if (typeof ts !== 'number' || !Number.isFinite(ts)) {
      rejected.push({ where, text: record.data, reason: 'no timestamp' });
      return;
    }
    timestamps.push(ts);
  }
  values.push(value);
}
