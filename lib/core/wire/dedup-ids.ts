/**
 * SQS deduplication ids: every id a message is sent with is built here. FIFO queues drop a
 * message whose id they saw within the deduplication window, so a sender that repeats
 * itself (a retried invocation, a redelivered trigger, a coordinator and a sink both
 * notifying a commit) must build the very same id from the very same inputs. The strings
 * are part of the wire format: changing one lets a retry through as a second message.
 *
 * No id names the job or the stage: each queue belongs to one stage of one job already.
 */
import type { Generation, SubtaskRef } from '../ids.js';

/** `<gen>:<tag>:<index>`: a control envelope sent to subtask `index` by the coordinator or recovery. */
const control = (gen: Generation | number, tag: string, index: number) => `${gen}:${tag}:${index}`;

export const dedupIds = {
  /** A channel envelope: the channel (from subtask, to index) and its sequence number. */
  channel: (gen: Generation | number, from: SubtaskRef, toIndex: number, seq: number) =>
    `${gen}:${from.stage}.${from.index}>${toIndex}:${seq}`,
  control,
  /** Checkpoint `cp`'s trigger to source subtask `index`. */
  trigger: (gen: Generation | number, cp: number, index: number) => control(gen, `trigger:${cp}`, index),
  /** Checkpoint `cp`'s commit to sink subtask `index`: the sink's own ack and the coordinator may both send it. */
  commit: (gen: Generation | number, cp: number, index: number) => control(gen, `commit:${cp}`, index),
  /** A generation's first poll of source subtask `index`. */
  startPoll: (gen: Generation | number, index: number) => control(gen, 'start', index),
  /** A source's self-scheduled poll of `round`: a retried poll sends the same next poll. */
  poll: (gen: Generation | number, index: number, round: number) => `${gen}:poll:${index}:${round}`,
  /** A malformed message wrapped for the stage's dead-letter queue, once per message. */
  deadLetter: (messageId: string) => `dlq:${messageId}`,
  /** The coordinator's delayed timer message that moves the chain to `token`. */
  timer: (token: number) => `timer-${token}`,
};
