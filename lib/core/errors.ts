/**
 * Typed errors. Every error is in one of two families (DESIGN §2):
 * - `RetryableError`: trying again later may succeed; the batch item is reported failed and
 *   SQS redelivers it;
 * - `TerminalError`: retrying cannot help; fail the checkpoint, hand over to recovery — or,
 *   for a message that can never be processed, dead-letter it.
 * What the runtime does with a caught error is decided in one place, `classify`
 * (error-boundary.ts). Definition-time problems (bad settings, bad graphs) are terminal
 * `ConfigError`s naming the field. Every constructor takes `{ cause }`, and every error
 * keeps the data needed to act on it.
 */
export interface CauseOption {
  readonly cause?: unknown;
}

export abstract class TidemarkError extends Error {
  abstract readonly code: string;
  /** The family, as a flag (true for `RetryableError`s); decisions go through `classify`. */
  abstract readonly retryable: boolean;
  constructor(message: string, options?: CauseOption) {
    super(message, options);
    this.name = new.target.name;
  }
}

export abstract class RetryableError extends TidemarkError {
  readonly retryable = true;
}

export abstract class TerminalError extends TidemarkError {
  readonly retryable = false;
}

/** A job definition or setting is invalid. `field` is the path of the offending setting. */
export class ConfigError extends TerminalError {
  readonly code = 'CONFIG';
  constructor(
    readonly field: string,
    message: string,
    options?: CauseOption,
  ) {
    super(`${field}: ${message}`, options);
  }
}

/** Another invocation committed this subtask's state first; our work is redone on retry. */
export class StateConflictError extends RetryableError {
  readonly code = 'STATE_CONFLICT';
  constructor(readonly subtask: string, readonly expectedVersion: string, options?: CauseOption) {
    super(`working state of ${subtask} moved past version ${expectedVersion}`, options);
  }
}

/**
 * A storage call failed in a way that may succeed later (throttling, timeouts, 5xx), and may
 * have taken effect all the same (a lost response): the one error worth retrying on the spot.
 */
export class TransientStorageError extends RetryableError {
  readonly code = 'TRANSIENT_STORAGE';
  constructor(readonly operation: string, options?: CauseOption) {
    super(`${operation} failed transiently`, options);
  }
}

/** An envelope arrived from a generation the subtask's state has not reached yet. */
export class NotYetRestoredError extends RetryableError {
  readonly code = 'NOT_YET_RESTORED';
  constructor(readonly subtask: string, readonly stateGeneration: number, readonly envelopeGeneration: number, options?: CauseOption) {
    super(`${subtask} is at generation ${stateGeneration}, envelope is from ${envelopeGeneration}`, options);
  }
}

/**
 * A stored object that a committed record names is not there (a staged or committed sink
 * part). Retried, as any storage failure the adapters do not classify: if it never appears,
 * SQS dead-letters the message and the job fails over from the dead-letter queue.
 */
export class MissingDataError extends RetryableError {
  readonly code = 'MISSING_DATA';
  /** `what` names the object: `staged part` → `staged part <key> is missing`. */
  constructor(readonly key: string, what: string, options?: CauseOption) {
    super(`${what} ${key} is missing`, options);
  }
}

/** A channel skipped a sequence number: a message was lost (dead-lettered or purged). */
export class LostMessageError extends TerminalError {
  readonly code = 'LOST_MESSAGE';
  constructor(readonly channel: string, readonly expectedSeq: number, readonly receivedSeq: number, options?: CauseOption) {
    super(`channel ${channel} expected seq ${expectedSeq} but received ${receivedSeq}`, options);
  }
}

/** SQS accepted a message of a group after refusing an earlier one of the same group: the
 *  group's order is broken, which the receiver would report as a lost message. */
export class SendOrderError extends TerminalError {
  readonly code = 'SEND_ORDER';
  constructor(readonly queue: string, readonly group: string, options?: CauseOption) {
    super(`queue ${queue}, group ${group}: a later message was accepted after an earlier one failed`, options);
  }
}

/** A message body is not a valid envelope for this job. Never retried: it goes to the DLQ. */
export class MalformedEnvelopeError extends TerminalError {
  readonly code = 'MALFORMED_ENVELOPE';
  constructor(readonly reason: MalformedReason, detail: string, options?: CauseOption) {
    super(`malformed envelope (${reason}): ${detail}`, options);
  }
}
export type MalformedReason = 'not-json' | 'wrong-version' | 'wrong-job' | 'unknown-operator' | 'invalid-field' | 'oversize';

/** What a user function failed on: a record, a source's position, or a window that fired. */
export type FailedInput =
  | { readonly record: unknown }
  | { readonly position: unknown }
  | { readonly window: { readonly start: number; readonly end: number }; readonly key: unknown }
  | { readonly timer: number; readonly key: unknown };

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

  private constructor(readonly operator: string, message: string, on: FailedInput | null, options: CauseOption) {
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
  if ('timer' in on) return `timer ${on.timer} of key ${preview(on.key, maxBytes)}`;
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

/** A value handed to a call at run time is not one it accepts (a record with no JSON form, a
 *  key that is neither a string nor a finite number, an argument out of range). */
export class InvalidInputError extends TerminalError {
  readonly code = 'INVALID_INPUT';
}

/** A stored item is larger than the store accepts (e.g. DynamoDB's 400 KB item limit). */
export class ItemTooLargeError extends TerminalError {
  readonly code = 'ITEM_TOO_LARGE';
  constructor(readonly key: string, readonly bytes: number, readonly limit: number, options?: CauseOption) {
    super(`item ${key} is ${bytes} bytes, the limit is ${limit}`, options);
  }
}

/** A restore cannot proceed: missing checkpoint, incompatible parallelism, deleted snapshot. */
export class RestoreError extends TerminalError {
  readonly code = 'RESTORE';
}

/** What of a savepoint's state a new job cannot take, by its kind (core/state-compatibility.ts). */
export type StateCompatibilityProblemKind = 'missing-operator' | 'operator-kind' | 'state-kind' | 'key-function' | 'max-parallelism';

export interface StateCompatibilityProblem {
  readonly kind: StateCompatibilityProblemKind;
  /** The operator it is about; null for a job-wide one (maxParallelism). */
  readonly operator: string | null;
  readonly state: string | null;
  readonly message: string;
}

/**
 * A restore's checkpoint or savepoint holds state the new job cannot take (an operator it
 * lacks, a state of another kind, another key function or maxParallelism). Raised before
 * any state is touched; the message is the problems', one after the other.
 */
export class StateCompatibilityError extends TerminalError {
  readonly code = 'STATE_COMPATIBILITY';
  constructor(readonly problems: readonly StateCompatibilityProblem[], options?: CauseOption) {
    super(problems.length === 1 ? problems[0]!.message : `${problems.length} state compatibility problems: ${problems.map((p) => p.message).join('; ')}`, options);
  }
}

/** The job is not in a state that allows the request (e.g. restoring a FAILED job's savepoint twice). */
export class JobStateError extends TerminalError {
  readonly code = 'JOB_STATE';
}

/** Whether `e` is of the retryable family. Not a decision: unknown errors are outside it, and
 *  what happens to any error is `classify`'s (error-boundary.ts). */
export const isRetryable = (e: unknown): boolean => e instanceof RetryableError;
