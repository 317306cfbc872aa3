/**
 * The window join of two streams (Flink's `a.join(b).where(…).equalTo(…).window(…).apply(…)`):
 * every pair of a left and a right record with equal keys in the same window, joined when the
 * window fires — tumbling, sliding or session windows, in event time.
 *
 * Built as Flink builds it (CoGroupedStreams): each side's records are tagged with their side
 * and key, the two tagged streams are unioned and keyed, and a window `process` function
 * pairs a fired window's left records with its right ones. So the window — assignment,
 * session merging, lateness, snapshots and rescaling — is the window operator's, unchanged.
 * What a pair's function returns carries the window's last time (its end − 1), as Flink's do.
 */
import type { Key } from '../core/keygroups.js';
import type { Window } from '../core/windows.js';

/** A record as the joined window sees it: which side, its key, the record. */
export interface JoinSide<L, R> {
  readonly side: 1 | 2;
  readonly key: Key;
  readonly value: L | R;
}

export type JoinFunction<L, R, O> = (left: L, right: R, window: Window) => O;

export const leftSide = <L, R>(key: (value: L) => Key) => (value: L): JoinSide<L, R> => ({ side: 1, key: key(value), value });
export const rightSide = <L, R>(key: (value: R) => Key) => (value: R): JoinSide<L, R> => ({ side: 2, key: key(value), value });

/** The window function: each left record with each right one, in arrival order on each side. */
export function pairsOf<L, R, O>(fn: JoinFunction<L, R, O>) {
  return (_key: Key, window: Window, elements: JoinSide<L, R>[], emit: (value: O) => void): void => {
    const lefts = elements.filter((e) => e.side === 1);
    const rights = elements.filter((e) => e.side === 2);
    for (const l of lefts) for (const r of rights) emit(fn(l.value as L, r.value as R, window));
  };
}
