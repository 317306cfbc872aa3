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

/** A user function threw. Deterministic user code will throw again, so this fails over. */
export class UserFunctionError extends TerminalError {
  readonly code = 'USER_FUNCTION';
  constructor(readonly operator: string, cause: unknown) {
    super(`operator ${operator} threw: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
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
