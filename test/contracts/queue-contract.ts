/**
 * The Queue port's contract (SQS FIFO semantics the runtime relies on). Run against the
 * memory queue here and against SQS on an emulator by the AWS adapter tests.
 */
import { expect, it } from 'vitest';
import type { Queue } from '../../lib/ports/queue.js';

export interface QueueFixture {
  readonly queue: Queue;
  /** A fresh FIFO queue (and its DLQ) with redrive after `maxReceiveCount` receives. */
  create(options: { maxReceiveCount: number }): Promise<{ name: string; deadLetter: string }>;
  /** Lets visibility timeouts pass (advances a clock, or waits). */
  elapse(ms: number): Promise<void>;
}

const msg = (group: string, n: number) => ({ group, body: `${group}-${n}`, dedupId: `${group}-${n}` });

export function queueContract(setup: () => Promise<QueueFixture>): void {
  it('delivers a group in send order and holds the group while a batch is in flight', async () => {
    const f = await setup();
    const { name } = await f.create({ maxReceiveCount: 5 });
    await f.queue.sendBatch(name, [msg('a', 1), msg('a', 2), msg('b', 1), msg('a', 3)]);
    const first = await f.queue.receive(name, { max: 10, visibilityTimeoutMs: 30_000 });
    const aBodies = first.filter((m) => m.group === 'a').map((m) => m.body);
    expect(aBodies).toEqual(['a-1', 'a-2', 'a-3'].slice(0, aBodies.length));
    const again = await f.queue.receive(name, { max: 10, visibilityTimeoutMs: 30_000 });
    const seen = new Set(first.map((m) => m.body));
    // nothing of a group with messages in flight is delivered again
    for (const m of again) expect(first.some((x) => x.group === m.group)).toBe(false);
    await f.queue.delete(name, [...first, ...again].map((m) => m.receiptHandle));
    for (const m of again) seen.add(m.body);
    const rest = [];
    for (let i = 0; i < 5 && seen.size + rest.length < 4; i++) {
      const got = await f.queue.receive(name, { max: 10, visibilityTimeoutMs: 30_000 });
      rest.push(...got);
      await f.queue.delete(name, got.map((m) => m.receiptHandle));
    }
    for (const m of rest) seen.add(m.body);
    expect([...seen].sort()).toEqual(['a-1', 'a-2', 'a-3', 'b-1']);
  });

  it('drops a message whose deduplication id was just seen', async () => {
    const f = await setup();
    const { name } = await f.create({ maxReceiveCount: 5 });
    await f.queue.sendBatch(name, [msg('g', 1)]);
    await f.queue.sendBatch(name, [msg('g', 1), msg('g', 2)]);
    const got = await f.queue.receive(name, { max: 10, visibilityTimeoutMs: 30_000 });
    expect(got.map((m) => m.body)).toEqual(['g-1', 'g-2']);
  });

  it('redelivers after the visibility timeout, counting receives, then dead-letters', async () => {
    const f = await setup();
    const { name, deadLetter } = await f.create({ maxReceiveCount: 2 });
    await f.queue.sendBatch(name, [msg('g', 1)]);
    const one = await f.queue.receive(name, { max: 1, visibilityTimeoutMs: 1000 });
    expect(one.map((m) => m.receiveCount)).toEqual([1]);
    await f.elapse(1500);
    const two = await f.queue.receive(name, { max: 1, visibilityTimeoutMs: 1000 });
    expect(two.map((m) => [m.body, m.receiveCount])).toEqual([['g-1', 2]]);
    await f.elapse(1500);
    expect(await f.queue.receive(name, { max: 1, visibilityTimeoutMs: 1000 })).toEqual([]);
    const dead = await f.queue.receive(deadLetter, { max: 1, visibilityTimeoutMs: 1000 });
    expect(dead.map((m) => m.body)).toEqual(['g-1']);
  });

  it('redelivers a whole in-flight batch of a group in its original order', async () => {
    // An emulator that releases expired messages one at a time while it iterates gets this wrong.
    const f = await setup();
    const { name } = await f.create({ maxReceiveCount: 5 });
    await f.queue.sendBatch(name, [msg('g', 1), msg('g', 2), msg('g', 3), msg('g', 4)]);
    const first = await f.queue.receive(name, { max: 2, visibilityTimeoutMs: 1000 });
    expect(first.map((m) => m.body)).toEqual(['g-1', 'g-2']);
    await f.elapse(1500);
    const again = await f.queue.receive(name, { max: 10, visibilityTimeoutMs: 30_000 });
    expect(again.map((m) => m.body)).toEqual(['g-1', 'g-2', 'g-3', 'g-4']);
  });

  it('makes a message visible at once with a zero visibility change', async () => {
    const f = await setup();
    const { name } = await f.create({ maxReceiveCount: 5 });
    await f.queue.sendBatch(name, [msg('g', 1)]);
    const [m] = await f.queue.receive(name, { max: 1, visibilityTimeoutMs: 60_000 });
    await f.queue.changeVisibility(name, m!.receiptHandle, 0);
    const again = await f.queue.receive(name, { max: 1, visibilityTimeoutMs: 60_000 });
    expect(again.map((x) => x.body)).toEqual(['g-1']);
  });
}
