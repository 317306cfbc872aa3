/**
 * Operator snapshot format: one immutable blob per subtask per checkpoint. A full snapshot
 * (`v: 1`) holds the operator state entries (keyed state by key group, source offsets, sink
 * transactions) and, for inspection, the channel sequence numbers at the barrier; a delta
 * (`v: 2`, core/snapshot-chain.ts) holds what changed since the previous snapshot of its chain
 * and names the chain's earlier checkpoints.
 */
import { RestoreError } from '../core/errors.js';
import type { StoredSnapshot } from '../core/snapshot-chain.js';

export const encodeSnapshot = (s: StoredSnapshot): string => JSON.stringify(s);

export function decodeSnapshot(body: string, key: string): StoredSnapshot {
  const s = JSON.parse(body) as StoredSnapshot;
  const known = (s.v === 1 || (s.v === 2 && Array.isArray(s.deleted) && Array.isArray(s.chain))) && Array.isArray(s.entries);
  if (!known) throw new RestoreError(`snapshot ${key} has an unknown format`);
  return s;
}
