/**
 * The Kinesis source's shard bookkeeping, as pure functions over its offset and what its
 * poll observed (the Arroyo shape: the reader does the I/O, these decide).
 *
 * What must hold for replay: a poll's records and the offset it leaves depend only on the
 * offset and the poll's limits — the engine may run a poll twice (a retry, a zombie) and
 * keeps one result, so both runs must agree on all of it. What a shard holds is observed
 * when the poll is sent (`limits`: the last sequence number a read found, whether the shard
 * has ended or was at its tip, which shards to take): the poll then emits only records up
 * to that number — records that exist and never change — however much arrived since.
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
  /** The shard has ended and every record of it was emitted. */
  readonly finished: boolean;
}

export interface KinesisOffset {
  /** The shards this subtask has taken, by id. */
  readonly shards: Readonly<Record<string, ShardPosition>>;
  /** Which taken shard is read first, so that no shard waits behind busy ones. */
  readonly turn: number;
  /** The last poll emitted everything its limits saw, every shard was at its tip, and no
   *  shard waits or was taken: a bounded source is at its end. */
  readonly caughtUp: boolean;
}

/** What a poll's limits observed of one taken shard. */
export interface ShardObserved {
  /** The last record a read found past `after` (`after` itself when it found none). */
  readonly seen: string | null;
  /** The shard has ended: nothing follows `seen`. */
  readonly end: boolean;
  /** Nothing followed `seen` then (MillisBehindLatest 0). */
  readonly atTip: boolean;
}

/** A poll's limits: its taken shards as observed, the shards to take, those still waiting. */
export interface KinesisLimits {
  readonly shards: Readonly<Record<string, ShardObserved>>;
  readonly take: readonly string[];
  readonly pending: readonly string[];
}

export const START: KinesisOffset = { shards: {}, turn: 0, caughtUp: false };
export const FRESH: ShardPosition = { after: null, finished: false };

/** The subtask that reads a shard: the number in its id (`shardId-000000000007`) modulo the parallelism. */
export function ownerOf(shard: string, parallelism: number): number {
  const m = /(\d+)$/.exec(shard);
  const n = m ? Number(m[1]) : murmur3(shard);
  return n % parallelism;
}

/** Taken shards not yet finished, starting at the offset's turn. */
export function readOrder(offset: KinesisOffset): string[] {
  const open = Object.keys(offset.shards)
    .sort()
    .filter((id) => !offset.shards[id]!.finished);
  if (open.length === 0) return open;
  const k = offset.turn % open.length;
  return [...open.slice(k), ...open.slice(0, k)];
}

/** What one read found past `after`, as the limits keep it. */
export function observe(after: string | null, read: ShardRead): ShardObserved {
  const last = read.records.length > 0 ? read.records[read.records.length - 1]!.seq : after;
  return { seen: last, end: read.end, atTip: read.atTip };
}

/** The records of `read` a poll emits: those up to `seen`, at most `room`. */
export function emitted(read: readonly StreamRecord[], seen: string | null, room: number): StreamRecord[] {
  if (seen === null) return [];
  return read.filter((r) => compareSeq(r.seq, seen) <= 0).slice(0, room);
}

/** The shard's position after a poll emitted `emit` of what `observed` saw. */
export function advance(position: ShardPosition, observed: ShardObserved, emit: readonly StreamRecord[]): ShardPosition {
  const after = emit.length > 0 ? emit[emit.length - 1]!.seq : position.after;
  return { after, finished: observed.end && after === observed.seen };
}

/** Whether the poll left the shard with nothing more to read that it knew of. */
export const drained = (position: ShardPosition, observed: ShardObserved) => position.finished || (observed.atTip && position.after === observed.seen);

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
  const parentFinished = (id: string) => !listed.has(id) || finishedElsewhere.has(id) || offset.shards[id]?.finished === true;
  const take: string[] = [];
  const pending: string[] = [];
  for (const shard of listing) {
    if (ownerOf(shard.id, parallelism) !== subtask || offset.shards[shard.id] !== undefined) continue;
    (shard.parents.every(parentFinished) ? take : pending).push(shard.id);
  }
  return { take, pending };
}
