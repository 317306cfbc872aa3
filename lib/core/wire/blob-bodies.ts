/**
 * Bodies of the objects the job writes to its bucket beside snapshots and staged parts:
 * dead letters (what a source could not read, a record a user function threw on) and sink
 * commit markers. Users and tools read these objects, so their shape and key order are a
 * format: built here, in the order they were always written.
 */

/** `dead-letters/<source>/<where>.json`: input a source could not read. */
export interface SourceDeadLetter {
  readonly source: string;
  /** Where the input came from (object and line, log partition and offset). */
  readonly where: string;
  readonly reason: string;
  /** The input as read. */
  readonly text: string;
}

export const sourceDeadLetterBody = (d: SourceDeadLetter): string =>
  JSON.stringify({ source: d.source, where: d.where, reason: d.reason, text: d.text } satisfies SourceDeadLetter);

/** `dead-letters/<operator>/r-<digest>.json`: a record a user function threw on. */
export interface RecordDeadLetter {
  readonly operator: string;
  /** `stage/index` of the subtask that skipped it. */
  readonly subtask: string;
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly cause: { readonly name?: string; readonly message: string; readonly stack?: string | undefined } | null;
  };
  readonly record: unknown;
}

/** The record goes in as its JSON text (`recordJson`), encoded once, after the rest. */
export function recordDeadLetterBody(d: Omit<RecordDeadLetter, 'record'>, recordJson: string): string {
  const meta = JSON.stringify({ operator: d.operator, subtask: d.subtask, error: { code: d.error.code, message: d.error.message, cause: d.error.cause } });
  return `${meta.slice(0, -1)},"record":${recordJson}}`;
}

/** `sinks/<sink>/committed/<cp>/<subtask>.json`: the staged parts one committed transaction holds. */
export interface CommitMarker {
  readonly checkpoint: number;
  readonly subtask: number;
  /** Blob keys of the transaction's staged parts, in order. */
  readonly parts: readonly string[];
}

export const commitMarkerBody = (m: CommitMarker): string =>
  JSON.stringify({ checkpoint: m.checkpoint, subtask: m.subtask, parts: m.parts } satisfies CommitMarker);

export const parseCommitMarkerBody = (body: string): CommitMarker => JSON.parse(body) as CommitMarker;
