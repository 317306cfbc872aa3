/**
 * Queue port: SQS FIFO semantics (message groups, deduplication ids, visibility timeout).
 *
 * Guarantees an implementation must give:
 * - within one message group, messages are delivered in the order they were sent;
 * - a group with messages in flight delivers nothing more until they are deleted or their
 *   visibility timeout expires (then they are delivered again, `receiveCount` + 1);
 * - a message whose `dedupId` was seen within the deduplication window is accepted and dropped;
 * - delivery is at least once: duplicates are possible, order within a group is not broken.
 *
 * A standard queue (name without `.fifo`: the coordinator's timer) ignores `group` and
 * `dedupId`, gives no order, and honours `delaySeconds`.
 */
export interface OutgoingMessage {
  readonly group: string;
  readonly body: string;
  readonly dedupId: string;
  /** Standard queues only: the message becomes visible this many seconds later (≤ 900). */
  readonly delaySeconds?: number;
}

export interface ReceivedMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly group: string;
  readonly body: string;
  readonly receiveCount: number;
}

export interface SendOutcome {
  /** Indexes (into the batch) of entries that were not accepted and must be sent again. */
  readonly failed: readonly number[];
}

export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
}

export interface Queue {
  /** At most `MAX_SEND_BATCH` entries. Entries are accepted in order per group. */
  sendBatch(queue: string, messages: readonly OutgoingMessage[]): Promise<SendOutcome>;
  receive(queue: string, options: { max: number; visibilityTimeoutMs: number }): Promise<ReceivedMessage[]>;
  delete(queue: string, receiptHandles: readonly string[]): Promise<void>;
  /** Makes a message visible again after `timeoutMs` (0 = now). */
  changeVisibility(queue: string, receiptHandle: string, timeoutMs: number): Promise<void>;
  depth(queue: string): Promise<QueueDepth>;
}

/** SQS's SendMessageBatch / ReceiveMessage limit. */
export const MAX_SEND_BATCH = 10;
