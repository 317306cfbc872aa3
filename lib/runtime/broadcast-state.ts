/**
 * Broadcast state (Flink's broadcast state pattern): map states a subtask keeps one copy of,
 * outside any key group, written by the calls for broadcast records and read by the calls
 * for keyed records. Every subtask receives every broadcast record, so every copy is the same
 * fold of them — as long as the function updates it the same way from the record alone,
 * which Flink asks too. A copy is snapshotted with its subtask; a restore at another
 * parallelism copies it to the new subtasks (core/recovery.ts).
 */
import { stateKeys } from '../core/wire/state-keys.js';
import { mapState, type StateJournal } from './keyed-state.js';
import type { WorkingState } from './working-state.js';

export interface BroadcastHandles {
  /** For a broadcast record's call. */
  readonly writable: Record<string, unknown>;
  /** For a keyed record's call or a timer's: Flink's ReadOnlyBroadcastState. */
  readonly readOnly: Record<string, unknown>;
}

export function broadcastHandles(ws: WorkingState, op: string, names: readonly string[], journal: StateJournal | null): BroadcastHandles {
  const writable: Record<string, unknown> = {};
  const readOnly: Record<string, unknown> = {};
  for (const name of names) {
    const entry = stateKeys.broadcast(op, name);
    const handle = mapState(ws, () => entry, journal);
    writable[name] = handle;
    const { get, contains, keys, values, entries, isEmpty } = handle;
    readOnly[name] = { get, contains, keys, values, entries, isEmpty };
  }
  return { writable, readOnly };
}
