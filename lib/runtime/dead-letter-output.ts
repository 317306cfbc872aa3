/**
 * The dead letter of a record a user function threw on, when the job skips such records
 * (`onUserError: 'dead-letter'`): one JSON object with the operator, the subtask, the error
 * (its cause's stack included) and the record, at `dead-letters/<operator>/r-<digest>.json`.
 *
 * The key is a digest of the record, not of where it came from: channel sequence numbers
 * start over in every generation and source batches depend on backpressure, so a position
 * would name another object on a replay after a restore or a rescale, while the record is
 * the same. The object is written put-if-absent with the invocation's other effects, so a
 * retried, overlapping or replayed invocation leaves exactly one. Equal records skipped by
 * one operator share it.
 */
import { createHash } from 'node:crypto';
import type { UserFunctionError } from '../core/errors.js';
import { subtaskKey, type JobName, type SubtaskRef } from '../core/ids.js';
import { blobKeys } from '../core/wire/storage-keys.js';
import { recordDeadLetterBody } from '../core/wire/blob-bodies.js';
import type { Effect } from '../core/effects.js';

/** The `deadLetters` counter on the job item these objects count under. */
export const USER_FUNCTION_REASON = 'user-function';

export function recordDeadLetter(job: JobName, at: SubtaskRef, error: UserFunctionError): Extract<Effect, { kind: 'dead-letter' }> {
  const record = recordJson(error.record);
  const cause = error.cause;
  const body = recordDeadLetterBody(
    {
      operator: error.operator,
      subtask: subtaskKey(at),
      error: {
        code: error.code,
        message: error.message,
        cause: cause instanceof Error ? { name: cause.name, message: cause.message, stack: cause.stack } : cause === undefined ? null : { message: String(cause) },
      },
    },
    record,
  );
  return {
    kind: 'dead-letter',
    key: blobKeys.recordDeadLetter(job, error.operator, createHash('sha256').update(record).digest('hex').slice(0, 32)),
    body,
    reason: USER_FUNCTION_REASON,
  };
}

/** A record between chained operators need not be JSON yet (a BigInt, a cycle): then its text. */
function recordJson(record: unknown): string {
  try {
    return JSON.stringify(record) ?? 'null';
  } catch {
    return JSON.stringify(String(record));
  }
}
