/**
 * Recovery planning (DESIGN §6): which checkpoint a restore starts from, and how snapshot
 * state is redistributed to the subtasks of the new generation, possibly at another
 * parallelism. Keyed state moves by whole key groups (Flink's rescaling), broadcast state is
 * copied to every new subtask; source offsets
 * stay with their subtask, so a source's parallelism cannot change; sink transactions found
 * in the snapshot are committed by the restore and not carried into working state.
 *
 * State belongs to operators, matched by name (Flink's `uid`), not to the stages that ran
 * them: a restore with changed code may chain an operator into another stage, add operators
 * (they start empty) or drop some (their state with them, once the state-compatibility check
 * allowed it; see core/state-compatibility.ts).
 */
import { RestoreError } from './errors.js';
import type { CheckpointId, Generation } from './ids.js';
import { subtaskForKeyGroup } from './keygroups.js';
import type { CheckpointRecord, Lineage, RestoreRequest } from './manifest.js';
import { keyGroupOfEntry, operatorOfEntry, parseStateKey, stateKeyFamily, type SinkTransactionEntry } from './wire/state-keys.js';
import type { StageTopology, Topology } from './topology.js';

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

/**
 * The snapshots of a checkpoint (by the stage that wrote them) as the stages of the new
 * topology see them: each operator's entries go to the stage that now runs the operator,
 * keeping the subtask and parallelism they were written at; entries of operators the new
 * job lacks are dropped. A subtask's own entries (its watermarks) stay with its stage, if
 * that is still one. A stage nothing is found for (all its operators are new) starts empty.
 */
export function regroupByOperator(snapshots: ReadonlyMap<string, readonly SubtaskSnapshot[]>, topology: Topology): Map<string, SubtaskSnapshot[]> {
  const stageOf = new Map<string, string>(topology.stages.flatMap((s) => s.operators.map((o) => [o.name as string, s.id as string] as const)));
  const stages = new Set<string>(topology.stages.map((s) => s.id));
  const out = new Map<string, SubtaskSnapshot[]>();
  for (const [oldStage, list] of snapshots) {
    for (const snap of list) {
      const pieces = new Map<string, [string, unknown][]>();
      for (const entry of snap.entries) {
        const op = operatorOfEntry(entry[0]);
        const stage = op === null ? (stages.has(oldStage) ? oldStage : undefined) : stageOf.get(op);
        if (stage === undefined) continue;
        let piece = pieces.get(stage);
        if (!piece) pieces.set(stage, (piece = []));
        piece.push(entry);
      }
      for (const [stage, entries] of pieces) {
        let target = out.get(stage);
        if (!target) out.set(stage, (target = []));
        target.push({ ...snap, stage, entries });
      }
    }
  }
  return out;
}

export function redistribute(stage: StageTopology, snapshots: readonly SubtaskSnapshot[], maxParallelism: number): StageRestore {
  const p = stage.parallelism;
  const entries = Array.from({ length: p }, () => new Map<string, unknown>());
  const transactions: SinkTransaction[] = [];
  const lists = new OperatorLists();
  for (const snap of snapshots) {
    // Snapshots may come from stages of several parallelisms (operators chained anew): keyed
    // entries go by key group whatever it was, the others need their subtask to be there.
    const oldParallelism = snap.parallelism;
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
        case 'processing-time':
          // Every new subtask resumes from the lowest watermark (and processing time) any old one had: never ahead.
          for (const e of entries) e.set(key, Math.min((e.get(key) as number | undefined) ?? Number.MAX_SAFE_INTEGER, value as number));
          continue;
        case 'counter':
          entries[0]!.set(key, ((entries[0]!.get(key) as number | undefined) ?? 0) + (value as number));
          continue;
        case 'operator-list':
          lists.add(key, entry.union, snap.subtask, oldParallelism, value as unknown[]);
          continue;
        case 'broadcast':
          // Every copy is the same fold of the same broadcast records (Flink's assumption):
          // new subtask i takes old subtask i mod the old parallelism's, as Flink does.
          for (let i = snap.subtask; i < p; i += oldParallelism) entries[i]!.set(key, value);
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
  lists.assign(entries);
  return { entries, transactions };
}

/**
 * A non-keyed function's list states across the old subtasks, and how the new ones get them
 * (Flink's operator state): at the same parallelism each subtask keeps its own; otherwise a
 * split list's elements, in old-subtask order, are cut into even contiguous parts, and a
 * union list is given whole to every new subtask.
 */
class OperatorLists {
  private readonly lists = new Map<string, { union: boolean; parallelism: number; parts: [number, unknown[]][] }>();

  add(key: string, union: boolean, subtask: number, parallelism: number, list: unknown[]): void {
    let state = this.lists.get(key);
    if (!state) this.lists.set(key, (state = { union, parallelism, parts: [] }));
    state.parts.push([subtask, list]);
  }

  assign(entries: Map<string, unknown>[]): void {
    const p = entries.length;
    for (const [key, { union, parallelism, parts }] of this.lists) {
      const ordered = parts.sort((a, b) => a[0] - b[0]);
      if (parallelism === p && !union) {
        for (const [subtask, list] of ordered) entries[subtask]!.set(key, list);
        continue;
      }
      const all = ordered.flatMap(([, list]) => list);
      entries.forEach((e, i) => {
        const mine = union ? all : all.slice(Math.floor((i * all.length) / p), Math.floor(((i + 1) * all.length) / p));
        if (mine.length > 0) e.set(key, mine);
      });
    }
  }
}
