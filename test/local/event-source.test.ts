import { describe, expect, it } from 'vitest';
import { ManualClock, MemoryQueue } from '../../lib/adapters/memory/index.js';
import { pollOnce } from '../../local/event-source.js';

const Q = 'stage.fifo';

async function queueWith(bodies: string[]) {
  const clock = new ManualClock(0);
  const queue = new MemoryQueue(clock);
  queue.createQueue(Q);
  await queue.sendBatch(Q, bodies.map((body, i) => ({ group: String(i), body, dedupId: body })));
  return { clock, queue };
}

const options = { max: 10, visibilityTimeoutMs: 1000 };

describe('pollOnce (Lambda’s SQS event source, one poll)', () => {
  it('deletes what succeeded and leaves a failed message in flight until its visibility timeout', async () => {
    const { clock, queue } = await queueWith(['a', 'b', 'c']);
    const r = await pollOnce(queue, Q, options, async (ms) => ({ returned: { batchItemFailures: [{ itemIdentifier: ms.find((m) => m.body === 'b')!.messageId }] } }));
    expect(r).toMatchObject({ failed: 1, abandoned: false });
    expect(r.received.map((m) => m.body)).toEqual(['a', 'b', 'c']);
    expect(await queue.depth(Q)).toEqual({ visible: 0, inFlight: 1 });
    clock.advance(1000);
    expect((await queue.receive(Q, options)).map((m) => [m.body, m.receiveCount])).toEqual([['b', 2]]);
  });

  it('releases a failed message at once when releaseFailed says so', async () => {
    const { queue } = await queueWith(['a', 'b']);
    await pollOnce(queue, Q, { ...options, releaseFailed: (m) => m.body === 'a' }, async (ms) => ({
      returned: { batchItemFailures: ms.map((m) => ({ itemIdentifier: m.messageId })) },
    }));
    expect(await queue.depth(Q)).toEqual({ visible: 1, inFlight: 1 });
  });

  it('deletes nothing when the invocation died, and does not invoke on an empty queue', async () => {
    const { queue } = await queueWith(['a', 'b']);
    const r = await pollOnce(queue, Q, options, async () => ({ abandoned: true }));
    expect(r).toMatchObject({ failed: 2, abandoned: true });
    expect(await queue.depth(Q)).toEqual({ visible: 0, inFlight: 2 });
    let invoked = false;
    const none = await pollOnce(queue, Q, options, async () => ((invoked = true), { returned: undefined }));
    expect([none.received.length, invoked]).toEqual([0, false]);
  });

  it('takes a handler that returns nothing (the coordinator) as a full success', async () => {
    const { queue } = await queueWith(['a']);
    await pollOnce(queue, Q, options, async () => ({ returned: undefined }));
    expect(await queue.depth(Q)).toEqual({ visible: 0, inFlight: 0 });
  });
});
