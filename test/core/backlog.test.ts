import { describe, expect, it } from 'vitest';
import { depthLimit, observeBacklog, type BacklogEstimate } from '../../lib/core/backlog.js';

const feed = (points: [number, number][]): BacklogEstimate => points.reduce<BacklogEstimate | undefined>((e, [at, depth]) => observeBacklog(e, at, depth), undefined)!;

describe('debloating a queue: its depth limit in time', () => {
  it('allows maxDepth until the queue was seen draining', () => {
    expect(depthLimit(feed([[0, 5], [100, 7]]), 500, 8)).toBe(8);
  });

  it('a slow consumer (a message per 200 ms) gets a short queue: about the target of its work', () => {
    // 4 → 3 → 2 over 400 ms: 0.005 messages per ms; 500 ms of work is 2 messages.
    expect(depthLimit(feed([[0, 4], [200, 3], [400, 2]]), 500, 8)).toBe(2);
  });

  it('a fast consumer gets maxDepth; a very slow one still one message', () => {
    expect(depthLimit(feed([[0, 8], [10, 0]]), 500, 8)).toBe(8);
    expect(depthLimit(feed([[0, 2], [60_000, 1]]), 500, 8)).toBe(1);
  });

  it('smooths: one fast sample does not undo a measured slow rate at once', () => {
    const slow = feed([[0, 4], [200, 3], [400, 2]]);
    const after = observeBacklog(observeBacklog(slow, 410, 8), 420, 4);
    expect(after.rate!).toBeGreaterThan(slow.rate!);
    expect(after.rate!).toBeLessThan(0.4 / 2);
  });

  it('rises and equal depths and clock steps back give no sample', () => {
    const e = feed([[0, 4], [200, 3]]);
    expect(observeBacklog(e, 300, 6).rate).toBe(e.rate);
    expect(observeBacklog(e, 100, 1).rate).toBe(e.rate);
  });
});
