/**
 * Backpressure for sources: a source's next poll may read records only while every queue
 * downstream of it holds fewer than `maxDepth` messages — or, with `targetBacklogMs`, fewer
 * than about that many milliseconds of its consumer's work (core/backlog.ts). Queues stay
 * shallow, which keeps end-to-end latency and checkpoint duration low (a barrier waits behind
 * what is queued) and spares emulators whose SQS slows down with depth. One
 * GetQueueAttributes per downstream queue per poll.
 */
import { observeBacklog, permittedRecords, type BacklogEstimate } from '../core/backlog.js';
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
  const permitted = (name: string, held: number, batchSize: number): number => {
    if (targetBacklogMs === undefined || now === undefined) return held >= maxDepth ? 0 : batchSize;
    const e = observeBacklog(estimates.get(name), now(), held);
    estimates.set(name, e);
    return permittedRecords(e, held, targetBacklogMs, maxDepth, batchSize);
  };
  return {
    // A source waiting for a permit holds up its group, its next trigger among them.
    maxPollWaitMs: options.maxPollWaitMs ?? (targetBacklogMs === undefined ? 1000 : Math.min(1000, targetBacklogMs / 4)),
    idlePollMs: options.idlePollMs ?? 500,
    async permit(topology: Topology, stage: string, batchSize: number): Promise<number> {
      let records = batchSize;
      for (const edge of stageById(topology, stage).outputs) {
        const name = stageById(topology, edge.stage).queue;
        const depth = await queue.depth(name);
        records = Math.min(records, permitted(name, depth.visible + depth.inFlight, batchSize));
        if (records === 0) return 0;
      }
      return records;
    },
  };
}

/** The flow control of a host that runs a whole job: at most `maxDepth` messages per queue,
 *  and (with periodic checkpoints) about half an interval of its consumer's work, so that a
 *  barrier's wait behind a slow stage stays within about an interval. */
export function checkpointPacedFlow(queue: Queue, interval: number | null, now: () => number, maxDepth = 8): FlowControl {
  return queueDepthFlow(queue, { maxDepth, ...(interval === null ? {} : { targetBacklogMs: interval / 2, now }) });
}
