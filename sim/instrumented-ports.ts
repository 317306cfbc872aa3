/**
 * Wraps the memory adapters so that every port call parks at a scheduler point first: the
 * scheduler can interleave, crash or stall a task between any two storage or queue steps.
 * The queue wrapper also remembers recent sends, so the harness can inject duplicates.
 */
import type { MemoryPorts } from '../lib/adapters/memory/index.js';
import type { Ports, StreamStore } from '../lib/ports/index.js';
import type { Clock } from '../lib/ports/clock.js';
import { TransientStorageError } from '../lib/core/errors.js';
import type { SimScheduler } from './scheduler.js';

export interface SentRecord {
  readonly queue: string;
  readonly group: string;
  readonly body: string;
}

/**
 * Writes whose response the scheduler may lose: the write takes effect, then the caller
 * sees a retryable error, as after AWS applied a request whose response never arrived.
 * The event source's own calls (receive, delete, change visibility) are not the runtime's.
 */
const LOSABLE = new Set([
  'queue.sendBatch',
  'blobs.put',
  'blobs.delete',
  'manifest.putJob',
  'manifest.createCheckpoint',
  'manifest.ack',
  'manifest.abort',
  'manifest.mark',
  'manifest.markCommitted',
  'manifest.deleteCheckpoint',
  'state.putIfAbsent',
  'state.put',
  'state.deleteBefore',
  'logs.append',
  'outputs.upsert',
]);

/** Proxies every async method of `target` through a scheduler point named after it. */
function instrument<T extends object>(target: T, sched: SimScheduler, prefix: string): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function') return value;
      const label = `${prefix}.${String(prop)}`;
      const losable = LOSABLE.has(label);
      return async (...args: unknown[]) => {
        await sched.point(label);
        const result = await (value as (...a: unknown[]) => unknown).apply(obj, args);
        if (losable && sched.loseResponse()) throw new TransientStorageError(`${label} (response lost)`);
        return result;
      };
    },
  });
}

export function instrumentedPorts(memory: MemoryPorts, sched: SimScheduler, sent: SentRecord[]): Ports {
  const queue = instrument(memory.queue, sched, 'queue');
  const recordingQueue = new Proxy(queue, {
    get(obj, prop, receiver) {
      if (prop !== 'sendBatch') return Reflect.get(obj, prop, receiver);
      return async (name: string, messages: { group: string; body: string }[]) => {
        const outcome = await obj.sendBatch(name, messages as never);
        messages.forEach((m, i) => {
          if (!outcome.failed.includes(i)) sent.push({ queue: name, group: m.group, body: m.body });
        });
        if (sent.length > 500) sent.splice(0, sent.length - 500);
        return outcome;
      };
    },
  });
  const clock: Clock = {
    now: () => memory.clock.now(),
    sleep: (ms) => (ms <= 0 ? sched.point('sleep') : sched.sleepUntil(memory.clock.now() + ms)),
  };
  return {
    queue: recordingQueue,
    blobs: instrument(memory.blobs, sched, 'blobs'),
    manifest: instrument(memory.manifest, sched, 'manifest'),
    state: instrument(memory.state, sched, 'state'),
    logs: instrument(memory.logs, sched, 'logs'),
    outputs: instrument(memory.outputs, sched, 'outputs'),
    streams: shortReads(instrument(memory.streams, sched, 'streams'), sched),
    clock,
  };
}

/**
 * Kinesis's GetRecords may return fewer records than asked, even none, while more are there:
 * half the reads here return a random prefix of what the shard holds, and say they are not
 * at its tip. A retried read then sees more or less than the first attempt did.
 */
function shortReads(streams: StreamStore, sched: SimScheduler): StreamStore {
  return {
    listShards: (stream) => streams.listShards(stream),
    ensureStream: (stream, shards) => streams.ensureStream(stream, shards),
    put: (stream, records) => streams.put(stream, records),
    async readShard(stream, shard, after, max) {
      const read = await streams.readShard(stream, shard, after, max);
      if (read.records.length === 0 || sched.draw() < 0.5) return read;
      const keep = Math.floor(sched.draw() * read.records.length);
      return { records: read.records.slice(0, keep), end: false, atTip: false };
    },
  };
}
