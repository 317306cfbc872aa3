import { MemoryBlobStore } from './memory-blob-store.js';
import { MemoryManifestStore } from './memory-manifest-store.js';
import { MemoryQueue } from './memory-queue.js';
import { MemoryStateStore } from './memory-state-store.js';
import { ManualClock } from './manual-clock.js';
import { MemoryLogStore } from './memory-log-store.js';
import { MemoryOutputTable } from './memory-output-table.js';
import { MemoryStreamStore } from './memory-stream-store.js';
import type { Clock } from '../../ports/clock.js';

export { MemoryBlobStore, MemoryManifestStore, MemoryQueue, MemoryStateStore, ManualClock, MemoryLogStore, MemoryOutputTable, MemoryStreamStore };
export { provisionMemoryQueues } from './memory-provision.js';
export { KEY_BYTES, meterPorts } from './metered-ports.js';

export interface MemoryPorts {
  readonly queue: MemoryQueue;
  readonly blobs: MemoryBlobStore;
  readonly manifest: MemoryManifestStore;
  readonly state: MemoryStateStore;
  readonly logs: MemoryLogStore;
  readonly outputs: MemoryOutputTable;
  readonly streams: MemoryStreamStore;
  readonly clock: Clock;
}

export function memoryPorts(clock: Clock, options: { maxItemBytes?: number } = {}): MemoryPorts {
  return {
    queue: new MemoryQueue(clock),
    blobs: new MemoryBlobStore(),
    manifest: new MemoryManifestStore(),
    state: new MemoryStateStore(options.maxItemBytes),
    logs: new MemoryLogStore(),
    outputs: new MemoryOutputTable(),
    streams: new MemoryStreamStore(clock),
    clock,
  };
}
