/**
 * Buffer debloating for queues (Flink's `taskmanager.network.memory.buffer-debloat`): a barrier
 * waits behind everything queued in its FIFO group, so the depth a source lets a downstream
 * queue reach should be measured in time, not in messages. Each observation of a queue's depth
 * refines an estimate of how fast it drains; the depth limit is that rate times the target
 * wait, between 1 and `maxDepth`. Pure: the runtime observes and asks.
 *
 * The rate is sampled only while the depth falls (then the queue did at least that much work;
 * sends in between make it an underestimate, which errs towards a shorter wait), and smoothed,
 * so one slow batch does not throttle the job.
 */

export interface BacklogEstimate {
  readonly at: number;
  readonly depth: number;
  /** Messages drained per millisecond; null until a fall was seen. */
  readonly rate: number | null;
}

/** Weight of a new sample in the smoothed rate. */
const SMOOTHING = 0.3;

export function observeBacklog(prev: BacklogEstimate | undefined, at: number, depth: number): BacklogEstimate {
  if (prev === undefined || at <= prev.at || depth >= prev.depth) return { at, depth, rate: prev?.rate ?? null };
  const sample = (prev.depth - depth) / (at - prev.at);
  const rate = prev.rate === null ? sample : prev.rate + SMOOTHING * (sample - prev.rate);
  return { at, depth, rate };
}

/** Messages the queue may hold before its sources wait: about `targetMs` of its work. */
export function depthLimit(e: BacklogEstimate, targetMs: number, maxDepth: number): number {
  if (e.rate === null) return maxDepth;
  return Math.max(1, Math.min(maxDepth, Math.floor(e.rate * targetMs)));
}
