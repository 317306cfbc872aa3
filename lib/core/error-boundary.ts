/**
 * The one error boundary: what the runtime does with an error it caught (DESIGN §2, §4).
 *
 *   retry        the batch item (and the rest of its message group) is reported failed and
 *                SQS redelivers it; a handler that is not fed by a batch fails its invocation
 *                and runs again (the next heartbeat, the next receive)
 *   terminal     retrying cannot help: the subtask requests a failover, and recovery restores
 *                the job from its latest completed checkpoint
 *   dead-letter  what can never be processed is put aside with its reason and processing
 *                goes on: a malformed message goes to its stage's dead-letter queue; with
 *                `onUserError: 'dead-letter'`, a record a user function failed on goes to the
 *                job's dead-letter output
 *
 * | error                                                                 | decision    |
 * | --------------------------------------------------------------------- | ----------- |
 * | `MalformedEnvelopeError`                                              | dead-letter |
 * | `UserFunctionError` on a record, with `onUserError: 'dead-letter'`    | dead-letter |
 * | any other `TerminalError` (other `UserFunctionError`s included)       | terminal    |
 * | `RetryableError` (`TransientStorageError`, `AwsRequestError`, …)      | retry       |
 * | anything else (a plain `Error` from an SDK or library we do not wrap) | retry       |
 *
 * Why an unknown error is retried: it is what the operator runtime has always done with
 * an error outside the terminal family, and it is safe — a transient fault goes away, and
 * a deterministic one exhausts SQS's `maxReceiveCount`, is dead-lettered, and the
 * dead-letter role fails the job over for the lost message. Failing over on it at once
 * would restart the job for every blip of an unwrapped client.
 */
import type { UserErrorPolicy } from './config.js';
import { MalformedEnvelopeError, TerminalError, UserFunctionError } from './errors.js';

export type ErrorDecision = 'retry' | 'terminal' | 'dead-letter';

export interface ClassifyOptions {
  /**
   * The `onUserError` policy of the operator whose user function failed. Pass it only where
   * that operator's record can be skipped: the operator chain's guard and a keyed edge's
   * keyBy, not a source's read or a window firing (those always fail over). Without it a
   * `UserFunctionError` is terminal.
   */
  readonly onUserError?: UserErrorPolicy;
}

export function classify(error: unknown, options: ClassifyOptions = {}): ErrorDecision {
  if (error instanceof MalformedEnvelopeError) return 'dead-letter';
  if (error instanceof UserFunctionError) {
    // A dead letter carries its record: an error not tied to one (a source position, a
    // window firing) cannot be skipped, whatever the policy says.
    const skippable = options.onUserError === 'dead-letter' && error.record !== undefined;
    return skippable ? 'dead-letter' : 'terminal';
  }
  if (error instanceof TerminalError) return 'terminal';
  return 'retry';
}
