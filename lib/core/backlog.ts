/**
 * Buffer debloating for queues (Flink's `taskmanager.network.memory.buffer-debloat`): a barrier
 * waits behind everything queued in its FIFO group, so the depth a source lets a downstream
 * queue reach should be measured in time, not in messages. Each observation of a queue's depth
 * refines an estimate of how fast it drains; the depth limit is that rate times the target
 * wait, between 1 and `maxDepth`. Pure: the runtime observes and asks.
 *
 * The rate is sampled over windows in which the depth did not rise (see `observeBacklog`)
 * and smoothed, so one slow batch does not throttle the job.
 */

export interface BacklogEstimate {
  readonly at: number;
  readonly depth: number;
  /** Where the current window of non-rising depths began. */
  readonly window: { readonly at: number; readonly depth: number };
  /** Messages drained per millisecond; null until measured. */
  readonly rate: number | null;
}

/** Weight of a new sample in the smoothed rate. */
const SMOOTHING = 0.3;
/** Shortest window sampled while the queue stays busy: one receive-and-delete must not look like a rate. */
export const MIN_WINDOW_MS = 200;

/**
 * A sample is the fall in depth over a window in which it never rose (a rise means sends,
 * which would hide the drain): once the window is MIN_WINDOW_MS long while the queue is still
 * busy (a slow consumer shows as a small or zero fall), or when the queue ran empty (at least
 * that fast). A queue empty at both ends says nothing: it was idle.
 */
export function observeBacklog(prev: BacklogEstimate | undefined, at: number, depth: number): BacklogEstimate {
  if (prev === undefined) return { at, depth, window: { at, depth }, rate: null };
  if (at < prev.at || depth > prev.depth) return { at, depth, window: { at, depth }, rate: prev.rate };
  const w = prev.window;
  const elapsed = at - w.at;
  const emptied = depth === 0 && w.depth > 0;
  if (elapsed <= 0 || (!emptied && (elapsed < MIN_WINDOW_MS || depth === 0))) return { at, depth, window: depth === 0 ? { at, depth } : w, rate: prev.rate };
  const sample = (w.depth - depth) / elapsed;
  const rate = prev.rate === null ? sample : emptied ? Math.max(prev.rate, sample) : prev.rate + SMOOTHING * (sample - prev.rate);
  return { at, depth, window: { at, depth }, rate };
}

/** Messages the queue may hold before its sources wait: about `targetMs` of its work. */
export function depthLimit(e: BacklogEstimate, targetMs: number, maxDepth: number): number {
  if (e.rate === null) return maxDepth;
  return Math.max(1, Math.min(maxDepth, Math.floor(e.rate * targetMs)));
}

/**
 * Records a source may read into a queue that holds `held` messages: none at the limit; a
 * whole batch while a message is less than `targetMs` of work; else a smaller batch, so that
 * a message is about that much (Flink's debloating shrinks buffers the same way). Smaller
 * messages drain faster, which the next estimates see: the size settles where a message is
 * about the target.
 */
export function permittedRecords(e: BacklogEstimate, held: number, targetMs: number, maxDepth: number, batchSize: number): number {
  if (held >= depthLimit(e, targetMs, maxDepth)) return 0;
  const work = e.rate === null ? 1 : e.rate * targetMs;
  return work >= 1 ? batchSize : Math.max(1, Math.floor(batchSize * work));
}
