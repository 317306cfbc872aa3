/**
 * StreamStore port on Kinesis Data Streams: ListShards (paged), and a read as GetShardIterator
 * (AFTER_SEQUENCE_NUMBER, or TRIM_HORIZON from the start) then one GetRecords. A closed
 * shard read to its end answers without a NextShardIterator: that is `end`.
 *
 * Streams are named, not given by ARN: the functions run in the stream's account and region
 * (the construct grants read on the ARNs it is given).
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  PutRecordsCommand,
  type KinesisClient,
  type Shard,
} from '@aws-sdk/client-kinesis';
import { TransientStorageError } from '../../core/errors.js';
import type { ShardRead, StreamShard, StreamStore } from '../../ports/stream-store.js';
import { attempt, awsCode, translateError } from './errors.js';

/** PutRecords takes at most 500 records a call. */
const PUT_BATCH = 500;
/** A created stream is ACTIVE after a few seconds: polls of DescribeStreamSummary, this far apart. */
const ACTIVE_POLL_MS = 200;
const ACTIVE_POLLS = 150;

export class KinesisStreamStore implements StreamStore {
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();

  constructor(private readonly client: KinesisClient) {}

  async listShards(stream: string): Promise<StreamShard[]> {
    const shards: Shard[] = [];
    let token: string | undefined;
    do {
      const page = await attempt('kinesis', 'ListShards', () =>
        this.client.send(new ListShardsCommand(token ? { NextToken: token } : { StreamName: stream })),
      );
      shards.push(...(page.Shards ?? []));
      token = page.NextToken;
    } while (token);
    return shards
      .map((s) => ({
        id: s.ShardId!,
        parents: [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => typeof p === 'string' && p.length > 0),
        closed: s.SequenceNumberRange?.EndingSequenceNumber !== undefined,
      }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async readShard(stream: string, shard: string, after: string | null, max: number): Promise<ShardRead> {
    const position =
      after === null ? { ShardIteratorType: 'TRIM_HORIZON' as const } : { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, StartingSequenceNumber: after };
    const { ShardIterator } = await attempt('kinesis', 'GetShardIterator', () =>
      this.client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard, ...position })),
    );
    if (!ShardIterator) return { records: [], end: true, atTip: true };
    const got = await attempt('kinesis', 'GetRecords', () => this.client.send(new GetRecordsCommand({ ShardIterator, Limit: Math.min(max, 10_000) })));
    const records = (got.Records ?? []).map((r) => ({
      seq: r.SequenceNumber!,
      data: this.decoder.decode(r.Data ?? new Uint8Array()),
      partitionKey: r.PartitionKey ?? '',
      arrival: r.ApproximateArrivalTimestamp?.getTime() ?? 0,
    }));
    const end = got.NextShardIterator === undefined || got.NextShardIterator === null;
    return { records, end, atTip: end || got.MillisBehindLatest === 0 };
  }

  async ensureStream(stream: string, shards: number): Promise<void> {
    try {
      await this.client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
    } catch (e) {
      if (awsCode(e) !== 'ResourceInUseException') throw translateError('kinesis', 'CreateStream', e);
    }
    for (let i = 0; i < ACTIVE_POLLS; i++) {
      const { StreamDescriptionSummary: d } = await attempt('kinesis', 'DescribeStreamSummary', () =>
        this.client.send(new DescribeStreamSummaryCommand({ StreamName: stream })),
      );
      if (d?.StreamStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, ACTIVE_POLL_MS));
    }
    throw new TransientStorageError(`kinesis stream ${stream} is not ACTIVE after ${(ACTIVE_POLL_MS * ACTIVE_POLLS) / 1000} s`);
  }

  async put(stream: string, records: readonly { partitionKey: string; data: string }[]): Promise<string[]> {
    const seqs: string[] = [];
    for (let i = 0; i < records.length; i += PUT_BATCH) {
      const batch = records.slice(i, i + PUT_BATCH);
      const got: (string | undefined)[] = new Array(batch.length);
      let pending = batch.map((_, j) => j);
      // PutRecords may reject some records (throttling): those are sent again, in order.
      for (let round = 0; pending.length > 0; round++) {
        if (round >= 20) throw new TransientStorageError(`kinesis PutRecords on ${stream}: ${pending.length} records still rejected`);
        const out = await attempt('kinesis', 'PutRecords', () =>
          this.client.send(
            new PutRecordsCommand({ StreamName: stream, Records: pending.map((j) => ({ PartitionKey: batch[j]!.partitionKey, Data: this.encoder.encode(batch[j]!.data) })) }),
          ),
        );
        const results = out.Records ?? [];
        pending = pending.filter((j, k) => {
          const seq = results[k]?.SequenceNumber;
          if (seq) got[j] = seq;
          return !seq;
        });
      }
      seqs.push(...(got as string[]));
    }
    return seqs;
  }
}
