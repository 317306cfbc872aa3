/**
 * Operator snapshot format: one immutable blob per subtask per checkpoint. It holds the
 * operator state entries (keyed state by key group, source offsets, sink transactions) and,
 * for inspection, the channel sequence numbers at the barrier.
 */
import { RestoreError } from '../core/errors.js';
import type { SubtaskSnapshot } from '../core/recovery.js';

export const encodeSnapshot = (s: SubtaskSnapshot): string => JSON.stringify(s);

export function decodeSnapshot(body: string, key: string): SubtaskSnapshot {
  const s = JSON.parse(body) as SubtaskSnapshot;
  if (s.v !== 1 || !Array.isArray(s.entries)) throw new RestoreError(`snapshot ${key} has an unknown format`);
  return s;
}
