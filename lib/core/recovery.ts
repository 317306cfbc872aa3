/**
 * Recovery planning (DESIGN §6): which checkpoint a restore starts from, and how snapshot
 * state is redistributed to the subtasks of the new generation, possibly at another
 * parallelism. Keyed state moves by whole key groups (Flink's rescaling); source offsets
 * stay with their subtask, so a source's parallelism cannot change; sink transactions found
 * in the snapshot are committed by the restore and not carried into working state.
 */
import { RestoreError } from './errors.js';
import type { CheckpointId, Generation } from './ids.js';
import { subtaskForKeyGroup } from './keygroups.js';
import type { CheckpointRecord, Lineage, RestoreRequest } from './manifest.js';
import { keyGroupOfEntry, parseStateKey, stateKeyFamily, type SinkTransactionEntry } from './wire/state-keys.js';
import type { StageTopology } from './topology.js';

export interface SubtaskSnapshot {
  readonly v: 1;
  readonly job: string;
  readonly stage: string;
  readonly subtask: number;
  readonly parallelism: number;
  readonly checkpoint: CheckpointId;
  readonly gen: Generation;
  readonly finished: boolean;
  readonly progress: number;
  readonly channels: Readonly<Record<string, number>>;
  readonly entries: readonly [string, unknown][];
}

export type { RestoreRequest } from './manifest.js';

/**
 * Picks the checkpoint to restore; null means start empty. `latest` follows the failed
 * generation's lineage: its newest completed checkpoint, else the checkpoint it was itself
 * restored from. A newer checkpoint of another line (one a savepoint restore branched away
 * from) is never "latest": its output belongs to a history the job left.
 */
export function chooseCheckpoint(
  request: RestoreRequest,
  checkpoints: readonly CheckpointRecord[],
  previous: Lineage,
): CheckpointRecord | null {
  const completed = checkpoints.filter((c) => c.status === 'COMPLETED').sort((a, b) => b.id - a.id);
  switch (request.kind) {
    case 'latest': {
      const own = completed.find((c) => c.gen === previous.gen);
      if (own) return own;
      if (previous.base === null) return null;
      const base = completed.find((c) => c.id === previous.base);
      if (!base) throw new RestoreError(`checkpoint ${previous.base}, the base of generation ${previous.gen}, is gone`);
      return base;
    }
    case 'checkpoint': {
      const found = checkpoints.find((c) => c.id === request.checkpoint);
      if (!found) throw new RestoreError(`checkpoint ${request.checkpoint} does not exist (retention may have deleted it)`);
      if (found.status !== 'COMPLETED') throw new RestoreError(`checkpoint ${request.checkpoint} is ${found.status}, not COMPLETED`);
      return found;
    }
    case 'savepoint': {
      const found = completed.find((c) => c.savepoint === request.name);
      if (!found) throw new RestoreError(`no completed savepoint named ${JSON.stringify(request.name)}`);
      return found;
    }
  }
}

export interface SinkTransaction {
  readonly op: string;
  readonly checkpoint: number;
  readonly subtask: number;
  readonly parts: readonly string[];
}

export interface StageRestore {
  /** Operator state entries per new subtask index. */
  readonly entries: Map<string, unknown>[];
  readonly transactions: SinkTransaction[];
}

export function redistribute(stage: StageTopology, snapshots: readonly SubtaskSnapshot[], maxParallelism: number): StageRestore {
  const p = stage.parallelism;
  const entries = Array.from({ length: p }, () => new Map<string, unknown>());
  const transactions: SinkTransaction[] = [];
  const oldParallelism = snapshots[0]?.parallelism ?? p;
  for (const snap of snapshots) {
    if (snap.parallelism !== oldParallelism) {
      throw new RestoreError(`snapshots of stage ${stage.id} disagree on parallelism`);
    }
    for (const [key, value] of snap.entries) {
      // Keyed entries are nearly all of a big state: their key group comes from a scan,
      // without parsing the rest of the key.
      const group = keyGroupOfEntry(key);
      if (group !== null) {
        entries[subtaskForKeyGroup(group as never, maxParallelism, p)]!.set(key, value);
        continue;
      }
      const entry = parseStateKey(key);
      switch (entry.kind) {
        case 'sink-txn': {
          const { op, checkpoint, subtask } = entry;
          transactions.push({ op, checkpoint, subtask, parts: (value as SinkTransactionEntry).parts });
          continue;
        }
        case 'sink-part':
          continue;
        case 'watermark':
        case 'input-watermark':
          // Every new subtask resumes from the lowest watermark any old one had: never ahead.
          for (const e of entries) e.set(key, Math.min((e.get(key) as number | undefined) ?? Number.MAX_SAFE_INTEGER, value as number));
          continue;
        case 'counter':
          entries[0]!.set(key, ((entries[0]!.get(key) as number | undefined) ?? 0) + (value as number));
          continue;
      }
      if (oldParallelism !== p) {
        throw new RestoreError(
          `stage ${stage.id} holds non-keyed state (${stateKeyFamily(key)}) and cannot change parallelism from ${oldParallelism} to ${p}`,
        );
      }
      entries[snap.subtask]!.set(key, value);
    }
  }
  return { entries, transactions };
}
