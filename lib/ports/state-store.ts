/**
 * Working-state store port: per subtask, a log of items ordered by version (generation,
 * then commit count). A `b` item is a base (the whole state at that version); a `d` item
 * is a delta on the version before it. DynamoDB: one partition per subtask, sort key by
 * version, so "latest" is one consistent Query with Limit 1.
 *
 * Guarantees: reads are strongly consistent; `putIfAbsent` is atomic (a conditional put), which
 * is what makes a commit conditional on the version it read; items are at most `maxItemBytes`
 * (larger payloads are spilled to the blob store by the runtime, never written here).
 */
import type { SubtaskRef } from '../core/ids.js';
import type { StateVersion } from '../core/wire/storage-keys.js';

export interface StateItem {
  readonly version: StateVersion;
  readonly kind: 'b' | 'd';
  readonly body: string;
}

export interface StateStore {
  readonly maxItemBytes: number;
  /** The newest item's version and kind, or null when the subtask has no state. */
  latest(job: string, ref: SubtaskRef): Promise<{ version: StateVersion; kind: 'b' | 'd' } | null>;
  /** Items newest first, down to and including the newest base. */
  readToBase(job: string, ref: SubtaskRef): Promise<StateItem[]>;
  /** Writes unless an item with the same version and kind exists; false when it did. */
  putIfAbsent(job: string, ref: SubtaskRef, item: StateItem): Promise<boolean>;
  /** Writes or overwrites (bases are deterministic, so overwriting is idempotent). */
  put(job: string, ref: SubtaskRef, item: StateItem): Promise<void>;
  /** Deletes items strictly older than `version`. */
  deleteBefore(job: string, ref: SubtaskRef, version: StateVersion): Promise<void>;
}
