/**
 * `kinesis`: running counts per key over a Kinesis stream that was resharded while it was
 * written — a shard split, then its two children merged, the records after each arriving
 * while the job runs (reads see them late, or cut short) — read by two source subtasks, so
 * that a child's parents are finished on the other subtask as often as on its own. A record
 * that is not JSON must be dead-lettered. Rescaled downstream on restore (a source keeps
 * its parallelism).
 */
import type { MemoryStreamStore } from '../lib/adapters/memory/index.js';
import { collect, job, kinesisSource } from '../lib/api/index.js';
import { randomFor, randomInt } from '../lib/core/rng.js';
import { canonicalCounts, countReducer, countsAtLeastOnce, event, settings, type Event, type SimTopology } from './topology-support.js';

export const SOURCE_TOPOLOGIES: Record<string, SimTopology> = {
  kinesis: {
    name: 'kinesis',
    sinks: ['out'],
    rescale: [{ count: 3 }, { count: 1 }],
    build({ mode, random }) {
      const j = job('simkinesis', { ...settings(mode, random), parallelism: 2 });
      const count = randomInt(random, 30, 120);
      const seed = randomInt(random, 0, 1e6);
      const shards = randomInt(random, 1, 3);
      const events = Array.from({ length: count }, (_, i) => event(i, randomFor(seed, i)));
      const cuts = [randomInt(random, 0, count), randomInt(random, 0, count)].sort((a, b) => a - b);
      const bad = randomInt(random, 0, count - 1);
      // The later phases arrive while the job runs.
      const delays = [0, randomInt(random, 0, 3000)];
      delays.push(delays[1]! + randomInt(random, 0, 3000));
      let phase = 0;
      const put = async (stream: MemoryStreamStore, from: number, below: number) =>
        stream.putLater(
          'events',
          events.slice(from, below).flatMap((e, k) => {
            const record = { partitionKey: `p${e.id}`, data: JSON.stringify(e) };
            return from + k === bad ? [{ partitionKey: 'bad', data: '{"id": not json' }, record] : [record];
          }),
          delays[phase++]!,
        );
      const prepare = async ({ streams }: { streams: MemoryStreamStore }) => {
        await streams.ensureStream('events', shards);
        await put(streams, 0, cuts[0]!);
        const [a, b] = streams.split('events', 'shardId-000000000000');
        await put(streams, cuts[0]!, cuts[1]!);
        streams.merge('events', a, b);
        await put(streams, cuts[1]!, count);
      };
      j.source('src', kinesisSource<Event>({ stream: 'events', bounded: true, batchSize: randomInt(random, 1, 4) }))
        .keyBy((e) => e.key)
        .aggregate('count', countReducer)
        .sink('out', collect());
      return { graph: j.build(), prepare, deadLetters: 1 };
    },
    canonical: canonicalCounts,
    atLeastOnce: countsAtLeastOnce,
  },
};
