/**
 * Bodies of the working-state items in the state store (see `tableKeys.stateSk`): a base
 * holds the whole state, a delta the changes of one commit, and an item too big for the
 * store holds only a pointer to the blob its body was spilled to.
 *
 * These are stored formats, read back by every later load: the one-letter field names are
 * kept short because a delta is written on every commit, and must not be renamed.
 */

/** A base item (`b`): every entry of the working state. */
export interface StateBase {
  /** Entries: [key, value] pairs. */
  readonly e: [string, unknown][];
  /** Operator-state keys changed since the subtask's last chained snapshot: what its next
   *  incremental snapshot writes (WorkingState.changedSinceSnapshot). Absent: none. */
  readonly c?: string[];
}

/** A delta item (`d`): what one commit changed. */
export interface StateDelta {
  /** Keys set, with their new values. */
  readonly s: [string, unknown][];
  /** Keys deleted. */
  readonly d: string[];
  /** Present when the commit took a chained snapshot: the operator-state keys changed after
   *  it (the changes since the snapshot start over from these). */
  readonly r?: string[];
}

/** An item whose body went to the blob store: the blob's key (`blobKeys.spilledState`). */
export interface SpillPointer {
  readonly spill: string;
}

export const stateBaseBody = (entries: Iterable<[string, unknown]>, changedSinceSnapshot: Iterable<string> = []): string => {
  const c = [...changedSinceSnapshot];
  return JSON.stringify((c.length > 0 ? { e: [...entries], c } : { e: [...entries] }) satisfies StateBase);
};
export const stateDeltaBody = (delta: StateDelta): string => JSON.stringify(delta);
export const spillPointerBody = (key: string): string => JSON.stringify({ spill: key } satisfies SpillPointer);

/** The spilled body's blob key when a parsed item body is a pointer; undefined otherwise. */
export function spilledKeyOf(parsed: unknown): string | undefined {
  const spill = (parsed as Partial<SpillPointer>).spill;
  return typeof spill === 'string' ? spill : undefined;
}
