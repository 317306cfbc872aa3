/**
 * In-memory Kinesis data streams, resharding included: `split` and `merge` close shards and
 * open children as Kinesis does, and a closed shard stays readable (MiniStack's Kinesis
 * deletes it, records and all, so resharding is modelled and tested here).
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../ports/clock.js';
import type { ShardRead, StreamRecord, StreamShard } from '../../core/kinesis-shards.js';
import type { StreamStore } from '../../ports/stream-store.js';

/** Hash keys are 128-bit: md5 of the partition key, as Kinesis routes. */
const MAX_HASH = (1n << 128n) - 1n;

interface Shard {
  readonly id: string;
  readonly parents: string[];
  readonly from: bigint;
  readonly to: bigint;
  closed: boolean;
  readonly records: StreamRecord[];
}

export class MemoryStreamStore implements StreamStore {
  private readonly streams = new Map<string, Shard[]>();
  private seq = 49_000_000_000_000_000_000n;
  readonly requests = { listShards: 0, readShard: 0, put: 0 };

  constructor(private readonly clock: Clock) {}

  async ensureStream(stream: string, shards: number): Promise<void> {
    if (this.streams.has(stream)) return;
    const width = (MAX_HASH + 1n) / BigInt(shards);
    this.streams.set(
      stream,
      Array.from({ length: shards }, (_, i) => this.open(i, [], width * BigInt(i), i === shards - 1 ? MAX_HASH : width * BigInt(i + 1) - 1n)),
    );
  }

  async listShards(stream: string): Promise<StreamShard[]> {
    this.requests.listShards++;
    return this.shards(stream).map((s) => ({ id: s.id, parents: [...s.parents], closed: s.closed }));
  }

  async readShard(stream: string, shard: string, after: string | null, max: number): Promise<ShardRead> {
    this.requests.readShard++;
    const s = this.shard(stream, shard);
    const from = after === null ? 0 : s.records.findIndex((r) => BigInt(r.seq) > BigInt(after));
    const start = from < 0 ? s.records.length : from;
    // Records still on their way (putLater) are not returned yet, and the shard is behind its tip.
    const now = this.clock.now();
    let visible = start;
    while (visible < s.records.length && visible - start < max && s.records[visible]!.arrival <= now) visible++;
    const records = s.records.slice(start, visible);
    const atTip = visible >= s.records.length;
    return { records, end: s.closed && atTip, atTip };
  }

  async put(stream: string, records: readonly { partitionKey: string; data: string }[]): Promise<string[]> {
    this.requests.put++;
    return this.putLater(stream, records, 0);
  }

  /**
   * Records that arrive `delayMs` from now: their shard (routed now) returns them once the
   * clock gets there, and is not at its tip before. Delays must not decrease from call to
   * call (arrival follows sequence order within a shard, as on Kinesis).
   */
  putLater(stream: string, records: readonly { partitionKey: string; data: string }[], delayMs: number): string[] {
    const arrival = this.clock.now() + delayMs;
    return records.map((r) => {
      const hash = BigInt(`0x${createHash('md5').update(r.partitionKey).digest('hex')}`);
      const target = this.shards(stream).find((s) => !s.closed && s.from <= hash && hash <= s.to)!;
      const last = target.records[target.records.length - 1];
      if (last && last.arrival > arrival) throw new Error(`putLater: a record of ${target.id} arrives before one put earlier`);
      const seq = String(++this.seq);
      target.records.push({ seq, data: r.data, partitionKey: r.partitionKey, arrival });
      return seq;
    });
  }

  /** Kinesis SplitShard: the shard closes; two children share its hash range at the middle. */
  split(stream: string, shard: string): [string, string] {
    const s = this.closeOpen(stream, shard);
    const middle = (s.from + s.to + 1n) / 2n;
    const all = this.shards(stream);
    const a = this.open(all.length, [s.id], s.from, middle - 1n);
    const b = this.open(all.length + 1, [s.id], middle, s.to);
    all.push(a, b);
    return [a.id, b.id];
  }

  /** Kinesis MergeShards: two shards of adjacent hash ranges close; one child covers both. */
  merge(stream: string, shard: string, adjacent: string): string {
    const [x, y] = [this.closeOpen(stream, shard), this.closeOpen(stream, adjacent)];
    const all = this.shards(stream);
    const child = this.open(all.length, [x.id, y.id], x.from < y.from ? x.from : y.from, x.to > y.to ? x.to : y.to);
    all.push(child);
    return child.id;
  }

  private open(index: number, parents: string[], from: bigint, to: bigint): Shard {
    return { id: `shardId-${String(index).padStart(12, '0')}`, parents, from, to, closed: false, records: [] };
  }

  private closeOpen(stream: string, shard: string): Shard {
    const s = this.shard(stream, shard);
    if (s.closed) throw new Error(`shard ${shard} of stream ${stream} is already closed`);
    s.closed = true;
    return s;
  }

  private shards(stream: string): Shard[] {
    const all = this.streams.get(stream);
    if (!all) throw new Error(`ResourceNotFoundException: stream ${stream} not found`);
    return all;
  }

  private shard(stream: string, id: string): Shard {
    const s = this.shards(stream).find((x) => x.id === id);
    if (!s) throw new Error(`ResourceNotFoundException: shard ${id} of stream ${stream} not found`);
    return s;
  }
}
