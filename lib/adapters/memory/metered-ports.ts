/**
 * Billing units of a run on the memory adapters: the ports wrapped so that each call counts
 * what the AWS adapter making the same call would be billed (core/cost.ts), by the same
 * rules the AWS meter applies (adapters/aws/billing-meter.ts):
 *
 * - queue: `sendBatch` one SendMessageBatch (its bodies in 64 KiB chunks), `receive` one
 *   ReceiveMessage (the bodies returned), `delete` one DeleteMessageBatch per 10 handles,
 *   `changeVisibility` and `depth` one request each (FIFO or standard by the queue's name);
 * - blobs: `put` a PUT, `get` a GET, `list` a LIST per 1,000 keys, `delete` free;
 * - manifest, state, logs, outputs: the DynamoDB calls of the AWS adapters, reads strongly
 *   consistent. An item's size is its body (a record's JSON, a state body, a log value)
 *   plus `KEY_BYTES` for its keys and bookkeeping attributes. A checkpoint mutation (ack,
 *   abort, mark) is a consistent read and a conditional write of the record, as on DynamoDB.
 *   Where the AWS adapter's call count depends on what is stored (deleting old state
 *   items), one read and one write are counted.
 * GetQueueUrl (once per queue and process on AWS) is not counted, nor are Kinesis reads (free
 * on provisioned streams).
 */
import { dynamodbReadUnits, dynamodbWriteUnits, utf8Bytes, type Billing } from '../../core/cost.js';
import type { CheckpointId } from '../../core/ids.js';
import type { Ports } from '../../ports/index.js';
import { MAX_SEND_BATCH } from '../../ports/queue.js';

/** pk, sk and the bookkeeping attributes of an AWS adapter's item (an estimate: ~60-90 bytes). */
export const KEY_BYTES = 100;
const LIST_PAGE = 1000;

export function meterPorts(ports: Ports, billing: Billing): Ports {
  const { queue, blobs, manifest, state, logs, outputs } = ports;
  const read = (bytes: number) => billing.dynamodbCall({ read: dynamodbReadUnits(bytes, { consistent: true }) });
  const write = (bytes: number) => billing.dynamodbCall({ write: dynamodbWriteUnits(bytes) });
  const itemOf = (body: string) => KEY_BYTES + utf8Bytes(body);
  const json = (x: unknown) => (x === null || x === undefined ? 0 : itemOf(JSON.stringify(x)));
  const checkpointMutation = async <T>(job: string, id: CheckpointId, call: () => Promise<T>): Promise<T> => {
    const size = json(await manifest.getCheckpoint(job, id));
    read(size);
    const result = await call();
    write(Math.max(size, json(await manifest.getCheckpoint(job, id))));
    return result;
  };
  return {
    clock: ports.clock,
    queue: {
      sendBatch: async (q, messages) => {
        const sizes = messages.map((m) => utf8Bytes(m.body));
        billing.sqsBodies(sizes);
        billing.sqsCall(q, sizes.reduce((a, b) => a + b, 0));
        return queue.sendBatch(q, messages);
      },
      receive: async (q, options) => {
        const got = await queue.receive(q, options);
        billing.sqsCall(q, got.reduce((n, m) => n + utf8Bytes(m.body), 0));
        return got;
      },
      delete: async (q, handles) => {
        for (let i = 0; i < handles.length; i += MAX_SEND_BATCH) billing.sqsCall(q, 0);
        return queue.delete(q, handles);
      },
      changeVisibility: async (q, handle, ms) => {
        billing.sqsCall(q, 0);
        return queue.changeVisibility(q, handle, ms);
      },
      depth: async (q) => {
        billing.sqsCall(q, 0);
        return queue.depth(q);
      },
    },
    blobs: {
      put: async (key, body, options) => {
        billing.s3Call(1);
        return blobs.put(key, body, options);
      },
      get: async (key) => {
        billing.s3Call(2);
        return blobs.get(key);
      },
      getBytes: async (key) => {
        billing.s3Call(2);
        return blobs.getBytes(key);
      },
      list: async (prefix) => {
        const keys = await blobs.list(prefix);
        billing.s3Call(1, Math.max(1, Math.ceil(keys.length / LIST_PAGE)));
        return keys;
      },
      delete: async (keys) => {
        billing.s3Call('free', Math.ceil(keys.length / LIST_PAGE));
        return blobs.delete(keys);
      },
    },
    manifest: {
      getJob: async (job) => {
        const r = await manifest.getJob(job);
        read(json(r));
        return r;
      },
      putJob: async (record, expected) => {
        write(json(record));
        return manifest.putJob(record, expected);
      },
      listAcks: async (job, id) => {
        const acks = await manifest.listAcks(job, id);
        // A Query: read units by the bytes it returns (at least one read).
        read(Math.max(KEY_BYTES, Object.values(acks).reduce((n, a) => n + json(a), 0)));
        return acks;
      },
      getCheckpoint: async (job, id) => {
        const r = await manifest.getCheckpoint(job, id);
        read(json(r));
        return r;
      },
      listCheckpoints: async (job, options) => {
        const rs = await manifest.listCheckpoints(job, options);
        read(rs.reduce((n, r) => n + json(r), 0));
        return rs;
      },
      createCheckpoint: async (job, record) => {
        write(json(record));
        return manifest.createCheckpoint(job, record);
      },
      // One transaction (the ack's own item, an in-place update of the checkpoint's), then a read back.
      ack: async (job, id, subtask, info, now) => {
        const outcome = await manifest.ack(job, id, subtask, info, now);
        const checkpoint = json(await manifest.getCheckpoint(job, id));
        billing.dynamodbCall({ write: dynamodbWriteUnits(json(info), { transactional: true }) + dynamodbWriteUnits(checkpoint, { transactional: true }) });
        read(checkpoint);
        return outcome;
      },
      abort: (job, id, reason, now, tombstone) => checkpointMutation(job, id, () => manifest.abort(job, id, reason, now, tombstone)),
      mark: (job, id, flag) => checkpointMutation(job, id, () => manifest.mark(job, id, flag)),
      markCommitted: (job, id, subtask) => checkpointMutation(job, id, () => manifest.markCommitted(job, id, subtask)),
      discardCheckpoint: (job, id) => checkpointMutation(job, id, () => manifest.discardCheckpoint(job, id)),
      deleteCheckpoint: async (job, id) => {
        write(json(await manifest.getCheckpoint(job, id)));
        return manifest.deleteCheckpoint(job, id);
      },
    },
    state: {
      get maxItemBytes() {
        return state.maxItemBytes;
      },
      latest: async (job, ref) => {
        read(KEY_BYTES);
        return state.latest(job, ref);
      },
      readToBase: async (job, ref) => {
        const items = await state.readToBase(job, ref);
        read(items.reduce((n, i) => n + itemOf(i.body), 0));
        return items;
      },
      putIfAbsent: async (job, ref, item) => {
        write(itemOf(item.body));
        return state.putIfAbsent(job, ref, item);
      },
      put: async (job, ref, item) => {
        write(itemOf(item.body));
        return state.put(job, ref, item);
      },
      deleteBefore: async (job, ref, version) => {
        read(KEY_BYTES);
        write(KEY_BYTES);
        return state.deleteBefore(job, ref, version);
      },
    },
    logs: {
      append: async (job, log, partition, values) => {
        read(KEY_BYTES); // the head
        for (const v of values) write(itemOf(v));
        return logs.append(job, log, partition, values);
      },
      read: async (job, log, partition, from, below, max) => {
        const entries = await logs.read(job, log, partition, from, below, max);
        read(entries.reduce((n, e) => n + itemOf(e.value), 0));
        return entries;
      },
      head: async (job, log, partition) => {
        read(KEY_BYTES);
        return logs.head(job, log, partition);
      },
    },
    outputs: {
      upsert: async (job, sink, key, value, checkpoint) => {
        write(itemOf(key + value));
        return outputs.upsert(job, sink, key, value, checkpoint);
      },
      get: async (job, sink, key) => {
        const row = await outputs.get(job, sink, key);
        read(row ? itemOf(row.key + row.value) : 0);
        return row;
      },
      scan: async (job, sink) => {
        const rows = await outputs.scan(job, sink);
        read(rows.reduce((n, r) => n + itemOf(r.key + r.value), 0));
        return rows;
      },
    },
    // Kinesis bills shard-hours and PUT payload units, which a job's reads do not change.
    streams: ports.streams,
  };
}
