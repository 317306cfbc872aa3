import { describe, expect, it } from 'vitest';
import { depthLimit, observeBacklog, permittedRecords, type BacklogEstimate } from '../../lib/core/backlog.js';

const feed = (points: [number, number][]): BacklogEstimate => points.reduce<BacklogEstimate | undefined>((e, [at, depth]) => observeBacklog(e, at, depth), undefined)!;

describe('debloating a queue: its depth limit in time', () => {
  it('allows maxDepth and whole batches until the queue was seen draining', () => {
    const e = feed([[0, 5], [100, 7]]);
    expect(depthLimit(e, 500, 8)).toBe(8);
    expect(permittedRecords(e, 7, 500, 8, 500)).toBe(500);
    expect(permittedRecords(e, 8, 500, 8, 500)).toBe(0);
  });

  it('a slow consumer (a message per 200 ms) gets a short queue: about the target of its work', () => {
    // 4 → 3 → 2 over 400 ms: 0.005 messages per ms; 500 ms of work is 2 messages.
    const e = feed([[0, 4], [200, 3], [400, 2]]);
    expect(depthLimit(e, 500, 8)).toBe(2);
    expect(permittedRecords(e, 1, 500, 8, 500)).toBe(500);
    expect(permittedRecords(e, 2, 500, 8, 500)).toBe(0);
  });

  it('a message that is more than the target of work gets smaller batches, never none', () => {
    // A message per second: 250 ms of work is a quarter of a message.
    const e = feed([[0, 3], [1000, 2], [2000, 1]]);
    expect(depthLimit(e, 250, 8)).toBe(1);
    expect(permittedRecords(e, 0, 250, 8, 400)).toBe(100);
    expect(permittedRecords(feed([[0, 2], [60_000, 1]]), 0, 250, 8, 400)).toBe(1);
  });

  it('one receive-and-delete is not a rate: a busy queue is sampled over MIN_WINDOW_MS', () => {
    // 10 messages deleted at once 20 ms after the last look, the queue still busy.
    const e = feed([[0, 1], [210, 1], [400, 11], [420, 1]]);
    expect(e.rate).toBe(0);
    expect(depthLimit(e, 500, 8)).toBe(1);
  });

  it('a queue that ran empty drained at least that fast; one empty at both ends says nothing', () => {
    const slow = feed([[0, 2], [400, 1]]);
    const emptied = observeBacklog(slow, 410, 0);
    expect(emptied.rate!).toBeGreaterThan(slow.rate!);
    expect(observeBacklog(observeBacklog(emptied, 900, 0), 1500, 0).rate).toBe(emptied.rate);
  });

  it('a rise (sends) starts a new window, and a clock step back gives no sample', () => {
    const e = feed([[0, 4], [200, 3]]);
    expect(observeBacklog(e, 300, 6).rate).toBe(e.rate);
    expect(observeBacklog(e, 100, 1).rate).toBe(e.rate);
  });
});
