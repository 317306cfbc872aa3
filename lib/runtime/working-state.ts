/**
 * A subtask's working state: a flat map of JSON values plus the set of keys changed since
 * the last commit. A commit writes only those keys (a delta); the whole map is written only
 * as an occasional base. Values are owned by the map: callers that mutate a value in place
 * must call `touch`.
 */
import type { StateVersion } from '../core/wire/storage-keys.js';
import type { StateDelta } from '../core/wire/state-items.js';

export class WorkingState {
  private readonly dirty = new Set<string>();

  constructor(
    public version: StateVersion,
    readonly entries: Map<string, unknown> = new Map(),
    /** Deltas committed since the newest base, and their bytes: decide when to write a new base. */
    public deltasSinceBase = 0,
    /** Blob keys of spilled items since the newest base, deleted once a newer base exists. */
    public spills: string[] = [],
    public baseBytes = 0,
    public deltaBytes = 0,
  ) {}

  get gen() {
    return this.version.gen;
  }

  get<T>(key: string): T | undefined {
    return this.entries.get(key) as T | undefined;
  }

  set(key: string, value: unknown): void {
    this.entries.set(key, value);
    this.dirty.add(key);
  }

  delete(key: string): void {
    if (this.entries.delete(key)) this.dirty.add(key);
  }

  /** Records that a value was changed in place. */
  touch(key: string): void {
    this.dirty.add(key);
  }

  keysWithPrefix(prefix: string): string[] {
    const out: string[] = [];
    for (const k of this.entries.keys()) if (k.startsWith(prefix)) out.push(k);
    return out;
  }

  /** The delta since the last call, or null when nothing changed. */
  takeDelta(): StateDelta | null {
    if (this.dirty.size === 0) return null;
    const s: [string, unknown][] = [];
    const d: string[] = [];
    for (const k of this.dirty) {
      if (this.entries.has(k)) s.push([k, this.entries.get(k)]);
      else d.push(k);
    }
    this.dirty.clear();
    return { s, d };
  }

  applyDelta(delta: StateDelta): void {
    for (const [k, v] of delta.s) this.entries.set(k, v);
    for (const k of delta.d) this.entries.delete(k);
  }
}
