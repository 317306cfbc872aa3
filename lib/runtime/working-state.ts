/**
 * A subtask's working state: a flat map of JSON values plus the set of keys changed since
 * the last commit. A commit writes only those keys (a delta); the whole map is written only
 * as an occasional base. Values are owned by the map: callers that mutate a value in place
 * must call `touch`.
 *
 * It also knows which operator-state keys changed since the subtask's last chained snapshot,
 * which is what an incremental snapshot writes. That set survives a cold start: a base stores
 * it, and a delta says when a snapshot reset it (`r`, the keys changed after the reset), so a
 * reload rebuilds exactly the set the committed history implies.
 */
import type { StateVersion } from '../core/wire/storage-keys.js';
import type { StateDelta } from '../core/wire/state-items.js';
import { isSnapshotted } from '../core/wire/state-keys.js';

export interface ChangedEntries {
  readonly set: [string, unknown][];
  readonly deleted: string[];
}

export class WorkingState {
  private readonly dirty = new Set<string>();
  /** Operator-state keys changed in committed deltas since the last chained snapshot. */
  private committedSinceSnapshot: Set<string>;
  /** Keys changed since a chained snapshot this invocation took; null when it took none. */
  private afterSnapshot: Set<string> | null = null;

  constructor(
    public version: StateVersion,
    readonly entries: Map<string, unknown> = new Map(),
    /** Deltas committed since the newest base, and their bytes: decide when to write a new base. */
    public deltasSinceBase = 0,
    /** Blob keys of spilled items since the newest base, deleted once a newer base exists. */
    public spills: string[] = [],
    public baseBytes = 0,
    public deltaBytes = 0,
    changedSinceSnapshot: Iterable<string> = [],
  ) {
    this.committedSinceSnapshot = new Set(changedSinceSnapshot);
  }

  get gen() {
    return this.version.gen;
  }

  get<T>(key: string): T | undefined {
    return this.entries.get(key) as T | undefined;
  }

  set(key: string, value: unknown): void {
    this.entries.set(key, value);
    this.changed(key);
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.changed(key);
  }

  /** Records that a value was changed in place. */
  touch(key: string): void {
    this.changed(key);
  }

  private changed(key: string): void {
    this.dirty.add(key);
    if (this.afterSnapshot !== null) this.afterSnapshot.add(key);
  }

  keysWithPrefix(prefix: string): string[] {
    const out: string[] = [];
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) out.push(k);
    return out;
  }

  /** Operator-state entries changed since the last chained snapshot, as they are now. */
  changedSinceSnapshot(): ChangedEntries {
    const set: [string, unknown][] = [];
    const deleted: string[] = [];
    for (const k of this.snapshotKeysChanged()) {
      if (this.entries.has(k)) set.push([k, this.entries.get(k)]);
      else deleted.push(k);
    }
    return { set, deleted };
  }

  /** The keys `changedSinceSnapshot` reports, without their values (a base stores them). */
  snapshotKeysChanged(): Set<string> {
    const keys = new Set<string>();
    const pending = this.afterSnapshot ?? this.dirty;
    if (this.afterSnapshot === null) for (const k of this.committedSinceSnapshot) keys.add(k);
    for (const k of pending) if (isSnapshotted(k)) keys.add(k);
    return keys;
  }

  /** A chained snapshot was taken now: the changes it holds start over. */
  snapshotTaken(): void {
    this.afterSnapshot = new Set();
  }

  /** The delta since the last call, or null when nothing changed. */
  takeDelta(): StateDelta | null {
    if (this.dirty.size === 0 && this.afterSnapshot === null) return null;
    const s: [string, unknown][] = [];
    const d: string[] = [];
    for (const k of this.dirty) {
      if (this.entries.has(k)) s.push([k, this.entries.get(k)]);
      else d.push(k);
    }
    const reset = this.afterSnapshot === null ? null : [...this.afterSnapshot].filter(isSnapshotted);
    if (reset !== null) this.committedSinceSnapshot = new Set(reset);
    else for (const k of this.dirty) if (isSnapshotted(k)) this.committedSinceSnapshot.add(k);
    this.dirty.clear();
    this.afterSnapshot = null;
    return reset === null ? { s, d } : { s, d, r: reset };
  }

  /** Applies a committed delta (a load replaying the history). */
  applyDelta(delta: StateDelta): void {
    for (const [k, v] of delta.s) this.entries.set(k, v);
    for (const k of delta.d) this.entries.delete(k);
    if (delta.r !== undefined) this.committedSinceSnapshot = new Set(delta.r);
    else {
      for (const e of delta.s) if (isSnapshotted(e[0])) this.committedSinceSnapshot.add(e[0]);
      for (const k of delta.d) if (isSnapshotted(k)) this.committedSinceSnapshot.add(k);
    }
  }
}
