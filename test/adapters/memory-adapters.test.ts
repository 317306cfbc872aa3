import { describe } from 'vitest';
import { ManualClock, MemoryBlobStore, MemoryManifestStore, MemoryQueue, MemoryStateStore } from '../../lib/adapters/memory/index.js';
import { queueContract } from '../contracts/queue-contract.js';
import { blobStoreContract, manifestContract, stateStoreContract } from '../contracts/store-contracts.js';

describe('memory queue', () => {
  queueContract(async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue(clock);
    let n = 0;
    return {
      queue,
      async create({ maxReceiveCount }) {
        const name = `q${++n}.fifo`;
        const deadLetter = `q${n}-dlq.fifo`;
        queue.createQueue(deadLetter);
        queue.createQueue(name, { deadLetterQueue: deadLetter, maxReceiveCount });
        return { name, deadLetter };
      },
      async elapse(ms) {
        clock.advance(ms);
      },
    };
  });
});

describe('memory blob store', () => blobStoreContract(async () => new MemoryBlobStore()));
describe('memory state store', () => stateStoreContract(async () => new MemoryStateStore()));
describe('memory manifest store', () => manifestContract(async () => new MemoryManifestStore()));
