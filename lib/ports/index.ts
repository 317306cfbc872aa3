export type { BlobStore } from './blob-store.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { ManifestStore } from './manifest-store.js';
export type { OutgoingMessage, Queue, QueueDepth, ReceivedMessage, SendOutcome } from './queue.js';
export { MAX_SEND_BATCH } from './queue.js';
export type { StateItem, StateStore } from './state-store.js';
export type { LogEntry, LogStore } from './log-store.js';
export type { OutputRow, OutputTable } from './output-table.js';
export type { ShardRead, StreamRecord, StreamShard, StreamStore } from './stream-store.js';

import type { BlobStore } from './blob-store.js';
import type { Clock } from './clock.js';
import type { ManifestStore } from './manifest-store.js';
import type { Queue } from './queue.js';
import type { StateStore } from './state-store.js';
import type { LogStore } from './log-store.js';
import type { OutputTable } from './output-table.js';
import type { StreamStore } from './stream-store.js';

/** Everything the runtime talks to. */
export interface Ports {
  readonly queue: Queue;
  readonly blobs: BlobStore;
  readonly manifest: ManifestStore;
  readonly state: StateStore;
  /** The DynamoDB log sources read. */
  readonly logs: LogStore;
  /** The DynamoDB sinks write. */
  readonly outputs: OutputTable;
  /** The Kinesis data streams Kinesis sources read. */
  readonly streams: StreamStore;
  readonly clock: Clock;
}
