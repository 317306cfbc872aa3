/**
 * Backpressure for sources: a source's next poll may read records only while every queue
 * downstream of it holds fewer than `maxDepth` messages. Queues stay shallow, which keeps
 * end-to-end latency (and checkpoint duration) low and spares emulators whose SQS slows
 * down with depth. One GetQueueAttributes per downstream queue per poll.
 */
import { stageById, type Topology } from '../core/topology.js';
import type { Queue } from '../ports/queue.js';
import type { FlowControl } from './effect-executor.js';

export interface QueueDepthFlowOptions {
  /** Messages (visible + in flight) a downstream queue may hold before sources wait. @default 20 */
  readonly maxDepth?: number;
  /** @default 1000 */
  readonly maxPollWaitMs?: number;
  /** @default 500 */
  readonly idlePollMs?: number;
}

export function queueDepthFlow(queue: Queue, options: QueueDepthFlowOptions = {}): FlowControl {
  const maxDepth = options.maxDepth ?? 20;
  return {
    maxPollWaitMs: options.maxPollWaitMs ?? 1000,
    idlePollMs: options.idlePollMs ?? 500,
    async permit(topology: Topology, stage: string, batchSize: number): Promise<number> {
      for (const edge of stageById(topology, stage).outputs) {
        const depth = await queue.depth(stageById(topology, edge.stage).queue);
        if (depth.visible + depth.inFlight >= maxDepth) return 0;
      }
      return batchSize;
    },
  };
}
