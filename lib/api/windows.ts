/**
 * Window assigners for `keyBy(...).window(...)`, in event time (ms):
 * tumbling(size), sliding(size, slide), session(gap). A window is [start, end) and fires when
 * the watermark reaches end - 1, as in Flink. Also the options of `window()`, checked.
 */
import type { TimeDomain } from '../core/graph.js';
import { requireInt } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { WindowAssigner } from '../core/windows.js';

export type { Window } from '../core/windows.js';

/** Fixed, non-overlapping windows: [k·size + offset, (k+1)·size + offset). */
export function tumbling(size: number, options: { offset?: number } = {}): WindowAssigner {
  return { kind: 'tumbling', size: requireInt('window.size', size, 1), offset: requireInt('window.offset', options.offset ?? 0, 0) };
}

/** Windows of `size` starting every `slide`; a record belongs to ⌈size / slide⌉ of them. */
export function sliding(size: number, slide: number, options: { offset?: number } = {}): WindowAssigner {
  return {
    kind: 'sliding',
    size: requireInt('window.size', size, 1),
    slide: requireInt('window.slide', slide, 1),
    offset: requireInt('window.offset', options.offset ?? 0, 0),
  };
}

/** Per-key sessions: records closer than `gap` belong together; a record can bridge two. */
export function session(gap: number): WindowAssigner {
  return { kind: 'session', gap: requireInt('window.gap', gap, 1) };
}

export interface WindowOptions {
  /** How long a fired window stays open for late records, each of which re-fires it. @default 0 */
  readonly allowedLateness?: number;
  /** Records later than that: dropped and counted, or to `lateRecords()`. @default 'drop' */
  readonly late?: 'drop' | 'side-output';
  /**
   * Early firings in event time (Flink's ContinuousEventTimeTrigger): the window also fires,
   * keeping its contents, each time the watermark reaches start + k·every − 1 before its end.
   * Tumbling and sliding windows only. @default none
   */
  readonly earlyFiringEvery?: number;
  /**
   * The clock of the early firings. `'processing-time'` (Flink's ContinuousProcessingTimeTrigger):
   * each key's open windows fire, keeping their contents, each time the recorded processing
   * time passes a multiple of `earlyFiringEvery` — any window kind, sessions too. @default 'event-time'
   */
  readonly earlyFiringIn?: TimeDomain;
}

/** A window operator's settings besides its function, as its spec carries them. */
export interface WindowSettings {
  readonly assigner: WindowAssigner;
  readonly allowedLateness: number;
  readonly late: 'drop' | 'side-output';
  readonly earlyEvery?: number;
  readonly earlyIn?: TimeDomain;
}

/** The settings of `window(assigner, options)`; ConfigError naming the field when one is wrong. */
export function windowSettings(assigner: WindowAssigner, options: WindowOptions): WindowSettings {
  const field = 'window';
  if (!assigner || !['tumbling', 'sliding', 'session'].includes((assigner as { kind?: string }).kind ?? '')) {
    throw new ConfigError(`${field}.assigner`, 'must be tumbling(), sliding() or session()');
  }
  const allowedLateness = requireInt(`${field}.allowedLateness`, options.allowedLateness ?? 0, 0);
  const late = options.late ?? 'drop';
  if (late !== 'drop' && late !== 'side-output') throw new ConfigError(`${field}.late`, `must be 'drop' or 'side-output', got ${JSON.stringify(late)}`);
  const earlyIn = options.earlyFiringIn ?? 'event-time';
  if (earlyIn !== 'event-time' && earlyIn !== 'processing-time') throw new ConfigError(`${field}.earlyFiringIn`, `must be 'event-time' or 'processing-time', got ${JSON.stringify(earlyIn)}`);
  if (options.earlyFiringEvery === undefined) {
    if (options.earlyFiringIn !== undefined) throw new ConfigError(`${field}.earlyFiringIn`, 'needs earlyFiringEvery');
    return { assigner, allowedLateness, late };
  }
  const earlyEvery = requireInt(`${field}.earlyFiringEvery`, options.earlyFiringEvery, 1);
  if (earlyIn === 'processing-time') return { assigner, allowedLateness, late, earlyEvery, earlyIn };
  if (assigner.kind === 'session') throw new ConfigError(`${field}.earlyFiringEvery`, 'is for tumbling and sliding windows (sessions merge)');
  if (earlyEvery >= assigner.size) throw new ConfigError(`${field}.earlyFiringEvery`, `${earlyEvery} is not below the window size ${assigner.size}: no early firing would happen`);
  return { assigner, allowedLateness, late, earlyEvery };
}
