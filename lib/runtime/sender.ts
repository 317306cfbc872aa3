/**
 * Sends messages in order (DESIGN §3): per queue, batches of at most ten entries and at most
 * `maxBatchBytes`; when an entry fails, it and every later entry of its message group are
 * sent again, in order, before anything after them. Queues are served concurrently.
 *
 * SQS reports a batch's entries one by one and does not promise to refuse the entries of a
 * group that follow a failed one (SendMessageBatch API reference). If one of them got in,
 * the group's order is already broken — the receiver would see a skipped sequence number —
 * so that is a terminal error at once, and the job fails over.
 */
import { Buffer } from 'node:buffer';
import { SendOrderError, TransientStorageError } from '../core/errors.js';
import type { Clock } from '../ports/clock.js';
import { MAX_SEND_BATCH, type OutgoingMessage, type Queue } from '../ports/queue.js';

export interface SenderOptions {
  readonly maxBatchBytes: number;
  readonly maxAttempts: number;
}

export const DEFAULT_SENDER: SenderOptions = { maxBatchBytes: 1024 * 1024, maxAttempts: 8 };

export async function sendInOrder(
  queue: Queue,
  clock: Clock,
  messages: readonly { queue: string; message: OutgoingMessage }[],
  options: SenderOptions = DEFAULT_SENDER,
): Promise<void> {
  const byQueue = new Map<string, OutgoingMessage[]>();
  for (const m of messages) {
    let list = byQueue.get(m.queue);
    if (!list) byQueue.set(m.queue, (list = []));
    list.push(m.message);
  }
  await Promise.all([...byQueue].map(([name, list]) => sendQueue(queue, clock, name, list, options)));
}

async function sendQueue(queue: Queue, clock: Clock, name: string, list: OutgoingMessage[], options: SenderOptions) {
  let pending = list;
  let attempt = 0;
  while (pending.length > 0) {
    const batch: OutgoingMessage[] = [];
    let bytes = 0;
    for (const m of pending) {
      const size = Buffer.byteLength(m.body);
      if (batch.length === MAX_SEND_BATCH || (batch.length > 0 && bytes + size > options.maxBatchBytes)) break;
      batch.push(m);
      bytes += size;
    }
    const { failed } = await queue.sendBatch(name, batch);
    const rest = pending.slice(batch.length);
    if (failed.length === 0) {
      pending = rest;
      attempt = 0;
      continue;
    }
    if (++attempt >= options.maxAttempts) {
      throw new TransientStorageError(`send to ${name}: ${failed.length} entries still failing after ${attempt} attempts`);
    }
    // Resend the failed entries and every later entry of their groups, keeping order.
    const failedGroups = new Set<string>();
    const again: OutgoingMessage[] = [];
    const failedSet = new Set(failed);
    batch.forEach((m, i) => {
      if (failedGroups.has(m.group) && !failedSet.has(i) && name.endsWith('.fifo')) {
        throw new SendOrderError(name, m.group);
      }
      if (failedSet.has(i) || failedGroups.has(m.group)) {
        failedGroups.add(m.group);
        again.push(m);
      }
    });
    pending = [...again, ...rest];
    await clock.sleep(Math.min(2000, 25 * 2 ** attempt));
  }
}
