/**
 * Branded identifiers. A brand costs nothing at run time; it stops a checkpoint id from
 * being passed where a generation is expected, which is the kind of mix-up that breaks
 * fencing silently.
 */
import { InvariantError } from './errors.js';

declare const brand: unique symbol;
export type Brand<T, B extends string> = T & { readonly [brand]: B };

/** The job's name; prefixes every queue, table and bucket the job owns. */
export type JobName = Brand<string, 'JobName'>;
/** A user-visible operator name, unique within a job. */
export type OperatorName = Brand<string, 'OperatorName'>;
/** A stage is a chain of operators run by one task (Flink's JobVertex after chaining). */
export type StageId = Brand<string, 'StageId'>;
/** Checkpoint ids increase across generations and are never reused. */
export type CheckpointId = Brand<number, 'CheckpointId'>;
/** Job generation: bumped by every restore; envelopes of older generations are fenced. */
export type Generation = Brand<number, 'Generation'>;
/** Flink's key group: hash(key) mod maxParallelism. */
export type KeyGroup = Brand<number, 'KeyGroup'>;

export const jobName = (s: string) => s as JobName;
export const operatorName = (s: string) => s as OperatorName;
export const stageId = (s: string) => s as StageId;
export const checkpointId = (n: number) => n as CheckpointId;
export const generation = (n: number) => n as Generation;
export const keyGroup = (n: number) => n as KeyGroup;

export const FIRST_GENERATION = generation(1);

/** One parallel instance of a stage. */
export interface SubtaskRef {
  readonly stage: StageId;
  readonly index: number;
}

/** `stage/index`: the form subtasks take in manifests and storage keys. */
export type SubtaskKey = Brand<string, 'SubtaskKey'>;
export const subtaskKey = (ref: SubtaskRef) => `${ref.stage}/${ref.index}` as SubtaskKey;

/** Parses a key this module built (stored in a checkpoint's acks): anything else is corrupt. */
export function parseSubtaskKey(key: string): SubtaskRef {
  const slash = key.lastIndexOf('/');
  const index = Number(key.slice(slash + 1));
  if (slash <= 0 || !Number.isInteger(index) || index < 0) {
    throw new InvariantError(`not a subtask key: ${JSON.stringify(key)}`);
  }
  return { stage: stageId(key.slice(0, slash)), index };
}

/**
 * A channel is the ordered link from one upstream subtask to one downstream subtask
 * (Flink's input channel). Sequence numbers count per channel.
 */
export type ChannelId = Brand<string, 'ChannelId'>;
export const channelId = (from: SubtaskRef, to: SubtaskRef) =>
  `${from.stage}.${from.index}>${to.stage}.${to.index}` as ChannelId;
