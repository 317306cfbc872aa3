/**
 * Watermarks (DESIGN §7): a source's watermark trails the largest timestamp it has read by
 * its bounded out-of-orderness (Flink's forBoundedOutOfOrderness: maxTimestamp - delay - 1);
 * an operator's watermark is the minimum over its input channels, leaving out idle ones, and
 * never goes back. When every input is idle the operator is idle too and says so downstream.
 * End of input is the largest watermark, which fires every window. Pure.
 */

/** Stands for "no more event time will come" (JSON has no Infinity). */
export const MAX_WATERMARK = Number.MAX_SAFE_INTEGER;
export const MIN_WATERMARK = Number.MIN_SAFE_INTEGER;

export interface ChannelWatermark {
  readonly wm: number;
  readonly idle: boolean;
}

export interface WatermarkStrategy {
  /** How far behind the largest timestamp seen a record may still arrive. */
  readonly outOfOrderness: number;
  /** A source subtask with no records for this long (ms of processing time) is idle. */
  readonly idleness?: number;
}

export const sourceWatermark = (maxTimestamp: number, outOfOrderness: number) =>
  maxTimestamp === MIN_WATERMARK ? MIN_WATERMARK : maxTimestamp - outOfOrderness - 1;

/**
 * The operator's watermark from its channels'. Channels that never reported start at the
 * minimum, so nothing fires before every input has spoken.
 */
export function combineWatermarks(channels: readonly ChannelWatermark[], previous: number): { wm: number; idle: boolean } {
  const active = channels.filter((c) => !c.idle);
  if (channels.length > 0 && active.length === 0) return { wm: previous, idle: true };
  const min = active.reduce((m, c) => Math.min(m, c.wm), MAX_WATERMARK);
  return { wm: Math.max(previous, channels.length === 0 ? previous : min), idle: false };
}
