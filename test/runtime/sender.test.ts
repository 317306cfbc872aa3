import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryQueue } from '../../lib/adapters/memory/index.js';
import { SendOrderError } from '../../lib/core/errors.js';
import type { OutgoingMessage, Queue } from '../../lib/ports/queue.js';
import { sendInOrder } from '../../lib/runtime/sender.js';

const msgs = (group: string, n: number) => Array.from({ length: n }, (_, i) => ({ queue: 'q.fifo', message: { group, body: `${group}${i}`, dedupId: `${group}${i}` } }));

describe('ordered sending', () => {
  it('batches at most ten entries and retries a failed entry, with the rest of its group, before anything after it', async () => {
    const clock = new ManualClock();
    const queue = new MemoryQueue(clock);
    queue.createQueue('q.fifo');
    let failures = 1;
    queue.failEntry = (_q, m) => m.body === 'a3' && failures-- > 0;
    const sent = sendInOrder(queue, { now: () => 0, sleep: async () => {} }, [...msgs('a', 12), ...msgs('b', 3)]);
    await sent;
    expect(queue.requests.send).toBe(3);
    const bodies = queue.peek('q.fifo');
    expect(bodies.filter((m) => m.group === 'a').map((m) => m.body)).toEqual(Array.from({ length: 12 }, (_, i) => `a${i}`));
    expect(bodies.filter((m) => m.group === 'b').map((m) => m.body)).toEqual(['b0', 'b1', 'b2']);
  });

  it('fails terminally when SQS accepted a later entry of a group after refusing an earlier one', async () => {
    // Real SQS may do this: entries are reported one by one.
    const accepted: OutgoingMessage[] = [];
    const queue = {
      async sendBatch(_q: string, batch: readonly OutgoingMessage[]) {
        batch.forEach((m, i) => i !== 1 && accepted.push(m));
        return { failed: [1] };
      },
    } as unknown as Queue;
    await expect(sendInOrder(queue, { now: () => 0, sleep: async () => {} }, msgs('a', 3))).rejects.toBeInstanceOf(SendOrderError);
  });
});
