/**
 * A job's queues on the memory adapters, from the same resource spec the emulator
 * provisioning and the CDK construct read (core/resource-spec.ts): per stage a FIFO queue
 * redriving to its FIFO dead-letter queue after `maxReceiveCount` receives, and the
 * coordinator's timer queue. The memory queue knows only names and redrive: visibility is
 * given per receive, and nothing expires.
 */
import { emulatorProfile, stageQueues, timerQueue } from '../../core/resource-spec.js';
import type { Topology } from '../../core/topology.js';
import type { MemoryQueue } from './memory-queue.js';

export function provisionMemoryQueues(queue: MemoryQueue, topology: Topology, options: { readonly maxReceiveCount: number }): void {
  // The visibility timeout is not a property of a memory queue; any value will do here.
  const profile = emulatorProfile({ visibilityTimeoutSeconds: 0, maxReceiveCount: options.maxReceiveCount });
  for (const stage of topology.stages) {
    const { queue: main, deadLetterQueue } = stageQueues(stage, profile);
    queue.createQueue(deadLetterQueue.name);
    queue.createQueue(main.name, main.redrive);
  }
  queue.createQueue(timerQueue(topology, profile).name);
}
