/**
 * Event-time timers of one keyed operator over the working state: a window operator's (a
 * window is due at its end) and a process function's (`ctx.timerService`).
 *
 * State: `k/<op>/$t/<kg>/<time>` → [encoded key, …], keyed, so timers move with key groups on
 * rescale and live in snapshots; plus a generation-local index of the times (`c/ti/<op>`),
 * rebuilt from the entries after a restore. Firing order is deterministic: time, key group,
 * then the order the keys were scheduled in. A timer scheduled while the due ones fire, for a
 * time the watermark has passed, fires in the same round (as Flink's timer service does).
 */
import type { KeyGroupRange } from '../core/keygroups.js';
import { KEYED_STATE, parseStateKey, stateKeys } from '../core/wire/state-keys.js';
import type { WorkingState } from './working-state.js';

export type OnTimer = (time: number, encodedKey: string, group: number) => void;

export class EventTimers {
  /** The index while timers fire, so that what they schedule joins the round. */
  private firing: number[] | null = null;

  /** `timers`: the keyed state the timers are kept in (KEYED_STATE: windows' and process functions', or cleanup). */
  constructor(
    private readonly ws: WorkingState,
    private readonly op: string,
    private readonly keyGroups: KeyGroupRange,
    private readonly timers: string = KEYED_STATE.windowTimers,
  ) {}

  /** A timer at `time` for the key; scheduling one that exists changes nothing. */
  schedule(time: number, encodedKey: string, group: number): void {
    const timerKey = stateKeys.windowTimers(this.op, group, time, this.timers);
    const keys = this.ws.get<string[]>(timerKey) ?? [];
    if (!keys.includes(encodedKey)) this.ws.set(timerKey, [...keys, encodedKey]);
    const index = this.firing ?? this.index();
    if (!index.includes(time)) {
      let at = index.length;
      while (at > 0 && index[at - 1]! > time) at--;
      index.splice(at, 0, time);
      this.ws.set(stateKeys.timerIndex(this.op, this.timers), index);
    }
  }

  /** Removes the key's timer at `time`, if any (its time may stay in the index: harmless). */
  cancel(time: number, encodedKey: string, group: number): void {
    const timerKey = stateKeys.windowTimers(this.op, group, time, this.timers);
    const keys = this.ws.get<string[]>(timerKey);
    if (!keys?.includes(encodedKey)) return;
    const rest = keys.filter((k) => k !== encodedKey);
    if (rest.length === 0) this.ws.delete(timerKey);
    else this.ws.set(timerKey, rest);
  }

  /** Fires, in order, every timer at or before `watermark`, each removed before it fires. */
  fireDue(watermark: number, onTimer: OnTimer): void {
    const index = this.index();
    if (index.length === 0 || index[0]! > watermark) return;
    this.firing = index;
    try {
      while (index.length > 0 && index[0]! <= watermark) {
        const time = index.shift()!;
        for (let group = this.keyGroups.start; group <= this.keyGroups.end; group++) {
          const timerKey = stateKeys.windowTimers(this.op, group, time, this.timers);
          const keys = this.ws.get<string[]>(timerKey);
          if (!keys) continue;
          this.ws.delete(timerKey);
          for (const encodedKey of keys) onTimer(time, encodedKey, group);
        }
      }
    } finally {
      this.firing = null;
    }
    this.ws.set(stateKeys.timerIndex(this.op, this.timers), index);
  }

  /** The sorted timer times; after a restore (the index is generation-local) rebuilt from the timers. */
  private index(): number[] {
    const stored = this.ws.get<number[]>(stateKeys.timerIndex(this.op, this.timers));
    if (stored) return stored;
    const times = new Set<number>();
    for (const k of this.ws.keysWithPrefix(stateKeys.windowTimersPrefix(this.op, this.timers))) {
      const entry = parseStateKey(k);
      if (entry.kind === 'keyed') times.add(Number(entry.key));
    }
    const index = [...times].sort((a, b) => a - b);
    this.ws.set(stateKeys.timerIndex(this.op, this.timers), index);
    return index;
  }
}
