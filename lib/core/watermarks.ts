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

/** A channel whose upstream has not reported yet. */
const NOT_REPORTED: ChannelWatermark = { wm: MIN_WATERMARK, idle: false };

/**
 * What `watermark` (or, idle, the idleness mark) does to the downstream: the watermark to
 * send and record as sent, or null when it neither moved nor changed its idleness. What is
 * sent never goes back.
 */
export function watermarkToForward(sent: ChannelWatermark | undefined, watermark: ChannelWatermark): ChannelWatermark | null {
  if (sent && watermark.wm <= sent.wm && watermark.idle === sent.idle) return null;
  return { wm: Math.max(watermark.wm, sent?.wm ?? MIN_WATERMARK), idle: watermark.idle };
}

/** What a watermark decision reads of the subtask's state. */
export interface WatermarkView {
  /** The last watermark received from an upstream subtask (`stage.index`). */
  inputWatermark(upstream: string): ChannelWatermark | undefined;
  /** The subtask's watermark. */
  watermark(): number;
  /** The watermark it last sent downstream. */
  watermarkSent(): ChannelWatermark | undefined;
}

/** What a watermark from an upstream does to the subtask, in the order it is carried out. */
export interface WatermarkStep {
  readonly upstream: string;
  /** The upstream's new entry; null when it did not change (nothing to write). */
  readonly input: ChannelWatermark | null;
  /** The subtask's watermark advanced to this (windows fire); null when it did not move. */
  readonly advanced: number | null;
  /** What to send downstream after the envelope's outputs; null: just send the buffers. */
  readonly forward: ChannelWatermark | null;
}

/**
 * An upstream subtask reported `wm` (idle or not): its entry never goes back, and the
 * subtask's watermark becomes the minimum over its upstreams, idle ones left out.
 */
export function onInputWatermark(
  view: WatermarkView,
  upstreams: readonly string[],
  upstream: string,
  wm: number,
  idle: boolean,
): WatermarkStep {
  const previous = view.inputWatermark(upstream);
  const next = { wm: Math.max(previous?.wm ?? MIN_WATERMARK, wm), idle };
  const changed = previous?.wm !== next.wm || previous.idle !== next.idle;
  const channels = upstreams.map((u) => (u === upstream ? next : (view.inputWatermark(u) ?? NOT_REPORTED)));
  const current = view.watermark();
  const combined = combineWatermarks(channels, current);
  return {
    upstream,
    input: changed ? next : null,
    advanced: combined.wm > current ? combined.wm : null,
    forward: watermarkToForward(view.watermarkSent(), combined),
  };
}
