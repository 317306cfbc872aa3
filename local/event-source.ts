/**
 * Lambda's SQS event source, one poll: receive a batch, hand it to one invocation, delete
 * the messages that succeeded, and leave the rest to their visibility timeout (or release
 * them at once, when the caller's `releaseFailed` says so). Written once and driven by
 * three schedulers: the local Lambda host (real time, concurrent, killable invocations),
 * the simulation (seeded interleavings) and the runtime tests' memory world (rounds).
 *
 * What must hold, as on AWS:
 * - a message is deleted only after an invocation that returned reported it successful;
 * - an invocation that died or threw deletes nothing: its whole batch comes back;
 * - a partial batch response fails exactly the messages it names.
 */
import type { Queue, ReceivedMessage } from '../lib/ports/queue.js';

/** What an invocation's handler returns: SQS's partial batch response. */
export interface PartialBatchResponse {
  readonly batchItemFailures?: readonly { readonly itemIdentifier: string }[];
}

/** The end of one invocation: it returned (maybe nothing, as the coordinator does), or it
 *  died or threw, which leaves its messages in flight until their visibility timeout. */
export type InvocationOutcome = { readonly returned: PartialBatchResponse | void } | { readonly abandoned: true };

export interface PollOptions {
  readonly max: number;
  readonly visibilityTimeoutMs: number;
  /** Asked for each failed message, in order: make it visible again now? @default never */
  readonly releaseFailed?: (message: ReceivedMessage) => boolean;
}

export interface PollResult {
  readonly received: readonly ReceivedMessage[];
  readonly failed: number;
  readonly abandoned: boolean;
}

const NOTHING: PollResult = { received: [], failed: 0, abandoned: false };

/**
 * One poll of `queue`. `invoke` runs the handler for the batch (it is not called when the
 * queue gave nothing). Errors of the receive itself propagate; a failed delete propagates
 * too (the messages then come back, which the protocol absorbs).
 */
export async function pollOnce(
  queue: Queue,
  name: string,
  options: PollOptions,
  invoke: (messages: readonly ReceivedMessage[]) => Promise<InvocationOutcome>,
): Promise<PollResult> {
  const received = await queue.receive(name, { max: options.max, visibilityTimeoutMs: options.visibilityTimeoutMs });
  if (received.length === 0) return NOTHING;
  return settle(queue, name, received, await invoke(received), options.releaseFailed);
}

/** After the invocation: delete what succeeded, maybe release what failed. */
export async function settle(
  queue: Queue,
  name: string,
  received: readonly ReceivedMessage[],
  outcome: InvocationOutcome,
  releaseFailed?: (message: ReceivedMessage) => boolean,
): Promise<PollResult> {
  if ('abandoned' in outcome) return { received, failed: received.length, abandoned: true };
  const failures = outcome.returned?.batchItemFailures ?? [];
  const failed = new Set(failures.map((f) => f.itemIdentifier));
  const done = received.filter((m) => !failed.has(m.messageId)).map((m) => m.receiptHandle);
  if (done.length > 0) await queue.delete(name, done);
  if (releaseFailed) {
    for (const m of received) if (failed.has(m.messageId) && releaseFailed(m)) await queue.changeVisibility(name, m.receiptHandle, 0);
  }
  return { received, failed: failed.size, abandoned: false };
}
