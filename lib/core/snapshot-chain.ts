/**
 * Incremental snapshots: a subtask's snapshot holds only the operator state that changed
 * since its previous one and names the earlier snapshots it builds on — a chain that starts
 * with a full snapshot (Flink's incremental checkpoints, with a linear chain instead of
 * shared SST files). The decisions are pure; the runtime writes and reads the objects.
 *
 * What must hold:
 * - A chain never spans more than `fullSnapshotEvery` checkpoint ids: a snapshot in
 *   checkpoint N needs objects of checkpoints > N - span only. That bound is what retention
 *   relies on to delete objects no retained checkpoint can reach (`chainFloor`), without
 *   reading any snapshot.
 * - A chain's changes never outgrow its full snapshot: a restore reads at most about twice
 *   the state, and a hot key written every checkpoint does not make the chain heavier than
 *   writing it whole.
 * - Savepoints are full and self-contained; they never join a chain (the chain goes on past
 *   them as if they were not there), so deleting a savepoint can never break a checkpoint.
 * - The first snapshot of a generation is full (a restore leaves no chain in working state),
 *   so a chain never crosses a restore, a rescale or an upgrade.
 */
import { RestoreError } from './errors.js';
import type { SubtaskSnapshot } from './recovery.js';

/** A subtask's chain as kept in working state (`stateKeys.snapshotChain`). */
export interface SnapshotChain {
  /** Checkpoints whose snapshots of this subtask make up the chain, oldest (the full one) first. */
  readonly ids: readonly number[];
  readonly fullBytes: number;
  /** Bytes of the deltas after the full snapshot. */
  readonly deltaBytes: number;
}

/** A delta snapshot: the entries set and the keys deleted since the previous snapshot of the chain. */
export interface SubtaskDeltaSnapshot extends Omit<SubtaskSnapshot, 'v'> {
  readonly v: 2;
  readonly deleted: readonly string[];
  /** The earlier checkpoints of the chain, oldest (the full snapshot) first. */
  readonly chain: readonly number[];
}

export type StoredSnapshot = SubtaskSnapshot | SubtaskDeltaSnapshot;

export interface ChainSettings {
  readonly incremental: boolean;
  readonly fullSnapshotEvery: number;
}

/** How far back (in checkpoint ids) a checkpoint's snapshots may reach: 1 when incremental is off. */
export const chainSpan = (s: ChainSettings): number => (s.incremental ? s.fullSnapshotEvery : 1);

/** The oldest checkpoint whose snapshots a snapshot in checkpoint `id` may need. */
export const chainFloor = (id: number, span: number): number => id - span + 1;

/** Whether checkpoint `checkpoint` may be a delta on `chain` (before its size is known). */
export function mayChain(chain: SnapshotChain | undefined, checkpoint: number, savepoint: boolean, s: ChainSettings): chain is SnapshotChain {
  if (!s.incremental || savepoint || chain === undefined || chain.ids.length === 0) return false;
  return checkpoint > chain.ids[chain.ids.length - 1]! && checkpoint - chain.ids[0]! < s.fullSnapshotEvery;
}

/** The chain after a delta of `bytes` at `checkpoint`; null when the chain's changes would
 *  outgrow its full snapshot, so a full one is due instead. */
export function extendChain(chain: SnapshotChain, checkpoint: number, bytes: number): SnapshotChain | null {
  const deltaBytes = chain.deltaBytes + bytes;
  if (deltaBytes > chain.fullBytes) return null;
  return { ids: [...chain.ids, checkpoint], fullBytes: chain.fullBytes, deltaBytes };
}

export const startChain = (checkpoint: number, bytes: number): SnapshotChain => ({ ids: [checkpoint], fullBytes: bytes, deltaBytes: 0 });

/**
 * Folds a delta snapshot and the earlier snapshots of its chain (oldest first, as its `chain`
 * names them) into the full snapshot they stand for. Refuses a chain that is not the one the
 * delta names: an object of another subtask, generation or checkpoint would restore wrong state.
 */
export function materialize(last: SubtaskDeltaSnapshot, earlier: readonly StoredSnapshot[]): SubtaskSnapshot {
  const where = `the snapshot of ${last.stage}/${last.subtask} in checkpoint ${last.checkpoint}`;
  if (earlier.length !== last.chain.length) throw new RestoreError(`${where} chains onto ${last.chain.length} snapshots, ${earlier.length} were read`);
  const entries = new Map<string, unknown>();
  earlier.forEach((snap, i) => {
    const wanted = last.chain[i]!;
    if (snap.checkpoint !== wanted || snap.stage !== last.stage || snap.subtask !== last.subtask || snap.gen !== last.gen) {
      throw new RestoreError(`${where} chains onto checkpoint ${wanted}, found ${snap.stage}/${snap.subtask} of checkpoint ${snap.checkpoint} (generation ${snap.gen})`);
    }
    if ((i === 0) !== (snap.v === 1)) throw new RestoreError(`${where}: its chain must start with a full snapshot and go on with deltas`);
    applySnapshot(entries, snap);
  });
  applySnapshot(entries, last);
  const { deleted: _deleted, chain: _chain, ...header } = last;
  return { ...header, v: 1, entries: [...entries] };
}

function applySnapshot(entries: Map<string, unknown>, snap: StoredSnapshot): void {
  if (snap.v === 2) for (const k of snap.deleted) entries.delete(k);
  for (const [k, v] of snap.entries) entries.set(k, v);
}
