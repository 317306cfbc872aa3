/**
 * In-memory SQS FIFO queues: message groups delivered in order with one batch in flight per
 * group, visibility timeouts, redelivery, deduplication window, and redrive to a dead-letter
 * queue after `maxReceiveCount` receives. Time comes from the injected clock.
 */
import { InvariantError } from '../../core/errors.js';
import type { Clock } from '../../ports/clock.js';
import type { OutgoingMessage, Queue, QueueDepth, ReceivedMessage, SendOutcome } from '../../ports/queue.js';
import { MAX_SEND_BATCH } from '../../ports/queue.js';

export interface MemoryQueueOptions {
  readonly deadLetterQueue?: string;
  readonly maxReceiveCount?: number;
}

/** SQS's rule: FIFO queue names end in `.fifo`; others are standard queues. */
export const isFifo = (name: string) => name.endsWith('.fifo');

interface Stored {
  readonly messageId: string;
  readonly group: string;
  readonly body: string;
  receiveCount: number;
  visibleAt: number;
  receiptHandle: string | null;
}

interface QueueData {
  readonly fifo: boolean;
  readonly options: MemoryQueueOptions;
  /** Per group, in send order; groups in order of first send. */
  readonly groups: Map<string, Stored[]>;
  readonly dedup: Map<string, number>;
}

/** SQS FIFO deduplication window. */
export const DEDUP_WINDOW_MS = 5 * 60_000;

export class MemoryQueue implements Queue {
  private readonly queues = new Map<string, QueueData>();
  private nextId = 0;
  readonly requests = { send: 0, receive: 0, delete: 0, changeVisibility: 0, depth: 0 };
  /** Test hook: return true to make a batch entry fail (it must then be retried). */
  failEntry: ((queue: string, message: OutgoingMessage) => boolean) | null = null;

  constructor(private readonly clock: Clock) {}

  createQueue(name: string, options: MemoryQueueOptions = {}): void {
    if (!this.queues.has(name)) this.queues.set(name, { fifo: isFifo(name), options, groups: new Map(), dedup: new Map() });
  }

  private data(name: string): QueueData {
    const q = this.queues.get(name);
    // Must hold: a memory world creates every queue of its topology before anything runs.
    if (!q) throw new InvariantError(`queue ${name} does not exist`);
    return q;
  }

  async sendBatch(queue: string, messages: readonly OutgoingMessage[]): Promise<SendOutcome> {
    this.requests.send++;
    if (messages.length > MAX_SEND_BATCH) throw new InvariantError(`batch of ${messages.length} exceeds ${MAX_SEND_BATCH}`);
    const q = this.data(queue);
    const failed: number[] = [];
    const failedGroups = new Set<string>();
    messages.forEach((m, i) => {
      // An entry after a failed one of the same group must not overtake it.
      if (failedGroups.has(m.group) || this.failEntry?.(queue, m)) {
        failed.push(i);
        failedGroups.add(m.group);
        return;
      }
      this.accept(q, m);
    });
    return { failed };
  }

  private accept(q: QueueData, m: OutgoingMessage): void {
    const now = this.clock.now();
    if (!q.fifo) {
      // Standard queue: every message is its own "group" (no ordering, no locking), delays apply.
      this.append(q, `~${this.nextId + 1}`, m.body, now + (m.delaySeconds ?? 0) * 1000);
      return;
    }
    const seen = q.dedup.get(m.dedupId);
    if (seen !== undefined && seen > now) return;
    q.dedup.set(m.dedupId, now + DEDUP_WINDOW_MS);
    this.append(q, m.group, m.body);
  }

  private append(q: QueueData, group: string, body: string, visibleAt = 0): void {
    let list = q.groups.get(group);
    if (!list) q.groups.set(group, (list = []));
    list.push({ messageId: `m${++this.nextId}`, group, body, receiveCount: 0, visibleAt, receiptHandle: null });
  }

  /** Fault injection: appends a copy of a body, bypassing deduplication (a late producer retry). */
  injectDuplicate(queue: string, group: string, body: string): void {
    this.append(this.data(queue), group, body);
  }

  async receive(queue: string, options: { max: number; visibilityTimeoutMs: number }): Promise<ReceivedMessage[]> {
    this.requests.receive++;
    const q = this.data(queue);
    const now = this.clock.now();
    const out: ReceivedMessage[] = [];
    const redrive = q.options.deadLetterQueue !== undefined && q.options.maxReceiveCount !== undefined;
    const exhausted = (m: Stored) => redrive && m.receiveCount >= q.options.maxReceiveCount!;
    for (const [group, list] of q.groups) {
      if (out.length >= options.max) break;
      // A head that was received maxReceiveCount times moves to the dead-letter queue.
      while (list.length > 0 && list[0]!.visibleAt <= now && exhausted(list[0]!)) {
        const dead = list.shift()!;
        this.append(this.data(q.options.deadLetterQueue!), group, dead.body);
      }
      // Take the visible prefix of the group; a message in flight locks the rest of it.
      for (const m of list) {
        if (out.length >= options.max || m.visibleAt > now || exhausted(m)) break;
        m.receiveCount++;
        m.visibleAt = now + options.visibilityTimeoutMs;
        m.receiptHandle = `${m.messageId}#${m.receiveCount}`;
        out.push({ messageId: m.messageId, receiptHandle: m.receiptHandle, group, body: m.body, receiveCount: m.receiveCount });
      }
      if (list.length === 0) q.groups.delete(group);
    }
    return out;
  }

  async delete(queue: string, receiptHandles: readonly string[]): Promise<void> {
    this.requests.delete++;
    const q = this.data(queue);
    const handles = new Set(receiptHandles);
    for (const [group, list] of q.groups) {
      // Like SQS, only the latest receipt handle deletes; a stale one is silently ignored.
      const kept = list.filter((m) => m.receiptHandle === null || !handles.has(m.receiptHandle));
      if (kept.length === 0) q.groups.delete(group);
      else if (kept.length !== list.length) q.groups.set(group, kept);
    }
  }

  async changeVisibility(queue: string, receiptHandle: string, timeoutMs: number): Promise<void> {
    this.requests.changeVisibility++;
    for (const list of this.data(queue).groups.values()) {
      const m = list.find((x) => x.receiptHandle === receiptHandle);
      if (m) m.visibleAt = this.clock.now() + timeoutMs;
    }
  }

  async depth(queue: string): Promise<QueueDepth> {
    this.requests.depth++;
    const now = this.clock.now();
    let visible = 0;
    let inFlight = 0;
    for (const list of this.data(queue).groups.values()) {
      for (const m of list) {
        if (m.visibleAt > now) inFlight++;
        else visible++;
      }
    }
    return { visible, inFlight };
  }

  /** Bodies currently held by a queue, in group order (tests read dead-letter queues with it). */
  peek(queue: string): { group: string; body: string }[] {
    return [...this.data(queue).groups.values()].flat().map((m) => ({ group: m.group, body: m.body }));
  }

  queueNames(): string[] {
    return [...this.queues.keys()];
  }
}
