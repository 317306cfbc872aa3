/**
 * Backpressure for sources: a source's next poll may read records only while every queue
 * downstream of it holds fewer than `maxDepth` messages — or, with `targetBacklogMs`, fewer
 * than about that many milliseconds of its consumer's work (core/backlog.ts). Queues stay
 * shallow, which keeps end-to-end latency and checkpoint duration low (a barrier waits behind
 * what is queued) and spares emulators whose SQS slows down with depth. One
 * GetQueueAttributes per downstream queue per poll.
 */
import { depthLimit, observeBacklog, type BacklogEstimate } from '../core/backlog.js';
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
  /** Keep each downstream queue's backlog within about this much of its consumer's time
   *  (half the checkpoint interval keeps a barrier's wait well within two); needs `now`.
   *  @default none: the limit is `maxDepth` messages */
  readonly targetBacklogMs?: number;
  readonly now?: () => number;
}

export function queueDepthFlow(queue: Queue, options: QueueDepthFlowOptions = {}): FlowControl {
  const maxDepth = options.maxDepth ?? 20;
  const { targetBacklogMs, now } = options;
  // Per flow control (one per container or host), never shared across them.
  const estimates = new Map<string, BacklogEstimate>();
  const limitOf = (name: string, depth: number): number => {
    if (targetBacklogMs === undefined || now === undefined) return maxDepth;
    const e = observeBacklog(estimates.get(name), now(), depth);
    estimates.set(name, e);
    return depthLimit(e, targetBacklogMs, maxDepth);
  };
  return {
    maxPollWaitMs: options.maxPollWaitMs ?? 1000,
    idlePollMs: options.idlePollMs ?? 500,
    async permit(topology: Topology, stage: string, batchSize: number): Promise<number> {
      for (const edge of stageById(topology, stage).outputs) {
        const name = stageById(topology, edge.stage).queue;
        const depth = await queue.depth(name);
        const held = depth.visible + depth.inFlight;
        if (held >= limitOf(name, held)) return 0;
      }
      return batchSize;
    },
  };
}

/** The flow control of a host that runs a whole job: at most `maxDepth` messages per queue,
 *  and (with periodic checkpoints) about half an interval of its consumer's work, so that a
 *  barrier's wait behind a slow stage stays within about an interval. */
export function checkpointPacedFlow(queue: Queue, interval: number | null, now: () => number, maxDepth = 8): FlowControl {
  return queueDepthFlow(queue, { maxDepth, ...(interval === null ? {} : { targetBacklogMs: interval / 2, now }) });
}
