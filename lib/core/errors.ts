/**
 * Typed errors. Two families decide what the runtime does (DESIGN §2):
 * - retryable: the batch item is reported failed and SQS redelivers it;
 * - terminal: retrying cannot help; dead-letter, fail the checkpoint, hand over to recovery.
 * Definition-time problems (bad settings, bad graphs) are `ConfigError`s naming the field.
 * Every error keeps its `cause` and the data needed to act on it.
 */
export abstract class TidemarkError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A job definition or setting is invalid. `field` is the path of the offending setting. */
export class ConfigError extends TidemarkError {
  readonly code = 'CONFIG';
  readonly retryable = false;
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}

export abstract class RetryableError extends TidemarkError {
  readonly retryable = true;
}

export abstract class TerminalError extends TidemarkError {
  readonly retryable = false;
}

/** Another invocation committed this subtask's state first; our work is redone on retry. */
export class StateConflictError extends RetryableError {
  readonly code = 'STATE_CONFLICT';
  constructor(readonly subtask: string, readonly expectedVersion: string) {
    super(`working state of ${subtask} moved past version ${expectedVersion}`);
  }
}

/** A storage call failed in a way that may succeed later (throttling, timeouts, 5xx). */
export class TransientStorageError extends RetryableError {
  readonly code = 'TRANSIENT_STORAGE';
  constructor(readonly operation: string, cause?: unknown) {
    super(`${operation} failed transiently`, { cause });
  }
}

/** An envelope arrived from a generation the subtask's state has not reached yet. */
export class NotYetRestoredError extends RetryableError {
  readonly code = 'NOT_YET_RESTORED';
  constructor(readonly subtask: string, readonly stateGeneration: number, readonly envelopeGeneration: number) {
    super(`${subtask} is at generation ${stateGeneration}, envelope is from ${envelopeGeneration}`);
  }
}

/** A channel skipped a sequence number: a message was lost (dead-lettered or purged). */
export class LostMessageError extends TerminalError {
  readonly code = 'LOST_MESSAGE';
  constructor(readonly channel: string, readonly expectedSeq: number, readonly receivedSeq: number) {
    super(`channel ${channel} expected seq ${expectedSeq} but received ${receivedSeq}`);
  }
}

/** SQS accepted a message of a group after refusing an earlier one of the same group: the
 *  group's order is broken, which the receiver would report as a lost message. */
export class SendOrderError extends TerminalError {
  readonly code = 'SEND_ORDER';
  constructor(readonly queue: string, readonly group: string) {
    super(`queue ${queue}, group ${group}: a later message was accepted after an earlier one failed`);
  }
}

/** A message body is not a valid envelope for this job. Never retried: it goes to the DLQ. */
export class MalformedEnvelopeError extends TerminalError {
  readonly code = 'MALFORMED_ENVELOPE';
  constructor(readonly reason: MalformedReason, detail: string) {
    super(`malformed envelope (${reason}): ${detail}`);
  }
}
export type MalformedReason = 'not-json' | 'wrong-version' | 'wrong-job' | 'unknown-operator' | 'invalid-field' | 'oversize';

/** What a user function failed on: a record, a source's position, or a window that fired. */
export type FailedInput =
  | { readonly record: unknown }
  | { readonly position: unknown }
  | { readonly window: { readonly start: number; readonly end: number }; readonly key: unknown };

/** Bytes of a record an error message shows; the failure record keeps 1 KiB of it. */
const MESSAGE_PREVIEW = 200;
export const INPUT_PREVIEW_BYTES = 1024;

/**
 * A user function threw, or returned what the engine cannot use (a null key, a record too
 * big for a buffer). Deterministic user code fails again on the same input, so this fails
 * over — or, with `onUserError: 'dead-letter'`, the record is skipped. The error names the
 * operator and carries the input (the record itself, for its dead letter) and the cause.
 */
export class UserFunctionError extends TerminalError {
  readonly code = 'USER_FUNCTION';
  /** The input as the failure record shows it: the record's JSON (1 KiB at most), a source position, a window. */
  readonly input: string | null;
  /** The record the function failed on; undefined when the input was not a record. */
  readonly record: unknown;

  private constructor(readonly operator: string, message: string, on: FailedInput | null, options: { cause?: unknown }) {
    super(message, options);
    this.input = on === null ? null : describeInput(on, INPUT_PREVIEW_BYTES);
    this.record = on !== null && 'record' in on ? on.record : undefined;
  }

  /** `operator parse threw: <cause> (record {...})`; `fn` names a function other than the
   *  operator's own: `operator counts: keyBy threw: …`. */
  static threw(operator: string, cause: unknown, on: FailedInput | null, fn?: string): UserFunctionError {
    const where = on === null ? '' : ` (${describeInput(on, MESSAGE_PREVIEW, true)})`;
    const who = fn ? `operator ${operator}: ${fn}` : `operator ${operator}`;
    return new UserFunctionError(operator, `${who} threw: ${messageOf(cause)}${where}`, on, { cause });
  }

  /** `operator counts: keyBy returned null for record {...}`: the engine cannot use what a function returned. */
  static invalid(operator: string, problem: string, on: FailedInput | null, cause?: unknown): UserFunctionError {
    const where = on === null ? '' : ` for ${describeInput(on, MESSAGE_PREVIEW, true)}`;
    return new UserFunctionError(operator, `operator ${operator}: ${problem}${where}`, on, cause === undefined ? {} : { cause });
  }
}

const messageOf = (e: unknown) => (e instanceof Error ? (e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message) : String(e));

function describeInput(on: FailedInput, maxBytes: number, labelled = false): string {
  if ('record' in on) return `${labelled ? 'record ' : ''}${preview(on.record, maxBytes)}`;
  if ('position' in on) return `source position ${preview(on.position, maxBytes)}`;
  return `window [${on.window.start}, ${on.window.end}) of key ${preview(on.key, maxBytes)}`;
}

/** A value's JSON, cut to `maxBytes` of UTF-8 (with `…` when cut); never throws. */
export function preview(value: unknown, maxBytes: number): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length <= maxBytes / 4) return text; // no UTF-8 character is longer than 4 bytes
  let bytes = 0;
  let cut = 0;
  for (let i = 0; i < text.length; ) {
    const c = text.codePointAt(i)!;
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (bytes > maxBytes) return `${text.slice(0, cut)}…`;
    i += c >= 0x10000 ? 2 : 1;
    if (bytes <= maxBytes - 3) cut = i; // room for the ellipsis, itself 3 bytes
  }
  return text;
}

/** `812 bytes`, `4.5 kB`, `1.2 MB`. */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} bytes`;
  return n < 1e6 ? `${(n / 1e3).toFixed(1)} kB` : `${(n / 1e6).toFixed(1)} MB`;
}

/** Something that must hold did not (a record reached a subtask that does not own its key
 *  group, an envelope came on a channel the subtask does not have). Fails over. */
export class InvariantError extends TerminalError {
  readonly code = 'INVARIANT';
}

/** A stored item is larger than the store accepts (e.g. DynamoDB's 400 KB item limit). */
export class ItemTooLargeError extends TerminalError {
  readonly code = 'ITEM_TOO_LARGE';
  constructor(readonly key: string, readonly bytes: number, readonly limit: number) {
    super(`item ${key} is ${bytes} bytes, the limit is ${limit}`);
  }
}

/** A restore cannot proceed: missing checkpoint, incompatible parallelism, deleted snapshot. */
export class RestoreError extends TerminalError {
  readonly code = 'RESTORE';
}

/** The job is not in a state that allows the request (e.g. restoring a FAILED job's savepoint twice). */
export class JobStateError extends TerminalError {
  readonly code = 'JOB_STATE';
}

export const isRetryable = (e: unknown): boolean => e instanceof TidemarkError && e.retryable;
