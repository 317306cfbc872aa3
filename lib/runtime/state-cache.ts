/**
 * Per-container cache of working states. An invocation first checks, with one consistent
 * read of the newest version, that the cached state is still the latest (DESIGN §4 rule 3);
 * only when another container committed since does it load again. Anything that fails
 * drops the cached copy, since it may hold uncommitted changes.
 */
import { subtaskKey, type SubtaskKey, type SubtaskRef } from '../core/ids.js';
import { compareVersions } from '../core/wire/storage-keys.js';
import type { StatePersistence } from './state-persistence.js';
import type { WorkingState } from './working-state.js';

export class StateCache {
  private readonly states = new Map<SubtaskKey, WorkingState>();
  readonly stats = { hits: 0, loads: 0 };

  constructor(private readonly persistence: StatePersistence) {}

  async fresh(ref: SubtaskRef): Promise<WorkingState> {
    const key = subtaskKey(ref);
    const cached = this.states.get(key);
    if (cached) {
      this.states.delete(key); // held by this invocation until it commits
      const latest = await this.persistence.latest(ref);
      if (latest && compareVersions(latest.version, cached.version) === 0) {
        this.stats.hits++;
        return cached;
      }
    }
    this.stats.loads++;
    return this.persistence.load(ref);
  }

  /** Commits and keeps the state for the next invocation; false when the commit lost a race. */
  async commit(ref: SubtaskRef, ws: WorkingState): Promise<boolean> {
    const ok = await this.persistence.commit(ref, ws);
    if (ok) this.states.set(subtaskKey(ref), ws);
    return ok;
  }
}
