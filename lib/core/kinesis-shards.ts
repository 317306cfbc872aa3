/**
 * The Kinesis source's shard bookkeeping, as pure functions over its offset (the Arroyo
 * shape: the reader does the I/O, these decide).
 *
 * What must hold for replay: the records a read emits depend on the offset alone. A shard's
 * position therefore keeps two sequence numbers: `after` (the last record emitted) and
 * `seen` (the last record an earlier read observed). A read emits only records in
 * (after, seen] — records that exist and never change — and observes further ones for the
 * next read. A shard is taken into the offset by one read and first emitted from by a later
 * one, so a retried read emits exactly what the first attempt did, whatever arrived between.
 *
 * Which subtask reads a shard is fixed by its id (the number Kinesis gives it, modulo the
 * parallelism), and a shard is taken only once each of its parents is finished: read to its
 * end by this subtask, or by another one that said so with a marker object (the reader
 * writes one for every shard it finishes), or gone from the stream (expired).
 */
import { murmur3 } from './keygroups.js';

/** Sequence numbers compared as the integers they are (they outgrow 2^53). */
export function compareSeq(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

export interface StreamShard {
  readonly id: string;
  /** The shard it split from, or the two it merged from; empty for a shard of the stream's creation. */
  readonly parents: readonly string[];
  /** Closed by resharding: its records are all there is. */
  readonly closed: boolean;
}

export interface StreamRecord {
  /** Sequence number: a decimal string, increasing within a shard. */
  readonly seq: string;
  /** The record's data, as UTF-8 text. */
  readonly data: string;
  readonly partitionKey: string;
  /** Approximate arrival time (ms since the epoch), as the stream recorded it. */
  readonly arrival: number;
}

export interface ShardRead {
  readonly records: readonly StreamRecord[];
  /** The shard is closed and no record follows the last one returned (or `after`, when none). */
  readonly end: boolean;
  /** Nothing follows the last record returned, for now (Kinesis: MillisBehindLatest is 0). A
   *  read may return fewer records than asked, even none, while more are there. */
  readonly atTip: boolean;
}

export interface ShardPosition {
  /** The last record emitted; null before the first. */
  readonly after: string | null;
  /** The last record observed; records up to it may be emitted. */
  readonly seen: string | null;
  /** The shard is closed and `seen` is its last record. */
  readonly end: boolean;
  /** The last read found nothing past `seen` (and the shard at its tip), and had emitted up to it. */
  readonly caughtUp: boolean;
}

export interface KinesisOffset {
  /** The shards this subtask has taken, by id. */
  readonly shards: Readonly<Record<string, ShardPosition>>;
  /** Its shards waiting for a parent to finish. */
  readonly pending: readonly string[];
  /** The stream's shards were listed at least once. */
  readonly listed: boolean;
  /** Which taken shard is read first, so that no shard waits behind busy ones. */
  readonly turn: number;
}

export const START: KinesisOffset = { shards: {}, pending: [], listed: false, turn: 0 };

/** The subtask that reads a shard: the number in its id (`shardId-000000000007`) modulo the parallelism. */
export function ownerOf(shard: string, parallelism: number): number {
  const m = /(\d+)$/.exec(shard);
  const n = m ? Number(m[1]) : murmur3(shard);
  return n % parallelism;
}

export const isFinished = (p: ShardPosition) => p.end && p.after === p.seen;

/** Taken shards not yet finished, starting at the offset's turn. */
export function readOrder(offset: KinesisOffset): string[] {
  const open = Object.keys(offset.shards)
    .sort()
    .filter((id) => !isFinished(offset.shards[id]!));
  if (open.length === 0) return open;
  const k = offset.turn % open.length;
  return [...open.slice(k), ...open.slice(0, k)];
}

/** What a read of one shard leaves: records to emit (the first, up to `room`, of those up to `seen`) and the new position. */
export function advance(position: ShardPosition, read: ShardRead, room: number): { emit: StreamRecord[]; position: ShardPosition } {
  const { seen } = position;
  const emit = seen === null ? [] : read.records.filter((r) => compareSeq(r.seq, seen) <= 0).slice(0, room);
  const after = emit.length > 0 ? emit[emit.length - 1]!.seq : position.after;
  const last = read.records.length > 0 ? read.records[read.records.length - 1]!.seq : null;
  const newer = last !== null && (seen === null || compareSeq(last, seen) > 0);
  const nextSeen = newer ? last : seen;
  return {
    emit,
    position: { after, seen: nextSeen, end: read.end, caughtUp: read.atTip && !newer && after === nextSeen },
  };
}

/** A position not read this time: it must be read again before the source can call itself caught up. */
export const unread = (p: ShardPosition): ShardPosition => ({ ...p, caughtUp: false });

/**
 * The shards to take now and those still waiting, from a listing: this subtask's shards not
 * yet taken whose every parent is finished — here, by a marker, or gone from the listing.
 */
export function discover(
  offset: KinesisOffset,
  listing: readonly StreamShard[],
  finishedElsewhere: ReadonlySet<string>,
  subtask: number,
  parallelism: number,
): { take: string[]; pending: string[] } {
  const listed = new Set(listing.map((s) => s.id));
  const parentFinished = (id: string) =>
    !listed.has(id) || finishedElsewhere.has(id) || (offset.shards[id] !== undefined && isFinished(offset.shards[id]!));
  const take: string[] = [];
  const pending: string[] = [];
  for (const shard of listing) {
    if (ownerOf(shard.id, parallelism) !== subtask || offset.shards[shard.id] !== undefined) continue;
    (shard.parents.every(parentFinished) ? take : pending).push(shard.id);
  }
  return { take, pending };
}

/** Bounded: everything this subtask can read was read, as the offset's last reads found it. */
export function boundedEnd(offset: KinesisOffset): boolean {
  return offset.listed && offset.pending.length === 0 && Object.values(offset.shards).every((p) => isFinished(p) || p.caughtUp);
}

export const FRESH: ShardPosition = { after: null, seen: null, end: false, caughtUp: false };
