/**
 * The SQS message bodies that are not envelopes: a malformed message as the operator wraps
 * it for its stage's dead-letter queue, and the coordinator's delayed timer message. Like
 * envelopes, their text is fixed: the key order below is the order they were always sent in.
 */

/**
 * A message the operator could not decode, sent to the stage's dead-letter queue with why.
 * The dead-letter role counts it by `reason` (nothing was lost: it was never valid), where a
 * message SQS itself dead-lettered is a lost envelope and fails the job over.
 */
export interface DeadLetterWrapper {
  readonly deadLetter: {
    /** The MalformedEnvelopeError's reason (`not-json`, `wrong-job`, …). */
    readonly reason: string;
    readonly detail: string;
    readonly group: string;
    readonly messageId: string;
    /** The original body's length when only its first characters are kept. */
    readonly truncated?: number;
  };
  /** The original body, or its first `keepChars` characters. */
  readonly body: string;
}

export interface UndecodableMessage {
  readonly messageId: string;
  readonly group: string;
  readonly body: string;
}

/** The wrapped body; a body longer than `keepChars` is cut, so the dead letter fits in a message. */
export function deadLetterWrapperBody(message: UndecodableMessage, reason: string, detail: string, keepChars: number): string {
  const truncated = message.body.length > keepChars;
  return JSON.stringify({
    deadLetter: { reason, detail, group: message.group, messageId: message.messageId, ...(truncated ? { truncated: message.body.length } : {}) },
    body: truncated ? message.body.slice(0, keepChars) : message.body,
  } satisfies DeadLetterWrapper);
}

/** The reason of a parsed dead-letter-queue body the operator wrapped; null for anything else
 *  (an envelope SQS gave up on). Bodies come from outside, so every field is checked. */
export function deadLetterReasonOf(parsed: unknown): string | null {
  const wrapper = (parsed as { deadLetter?: { reason?: unknown } } | null)?.deadLetter;
  return wrapper ? String(wrapper.reason ?? 'unknown') : null;
}

/** The coordinator's delayed message: fires the timer chain of `job` at `token`. */
export interface TimerMessage {
  readonly job: string;
  readonly token: number;
}

export const timerMessageBody = (job: string, token: number): string => JSON.stringify({ job, token } satisfies TimerMessage);

/** Parses a timer queue message body; null when it is not one of ours. */
export function parseTimerMessage(body: string, job: string): TimerMessage | null {
  try {
    const m = JSON.parse(body) as TimerMessage;
    return m.job === job && Number.isInteger(m.token) ? m : null;
  } catch {
    return null;
  }
}
