/**
 * What processing a group decided to do, collected in order and carried out afterwards by
 * the runtime (lib/runtime/effect-executor.ts): read → decide → execute. Every effect is
 * idempotent (deterministic dedup ids, immutable blob keys, set-like acks), so a retried or
 * overlapping invocation can repeat all of them.
 *
 * Plain data: collecting effects performs nothing. The order within each list is the order
 * the runtime carries them out in, which keeps them safe to repeat and deterministic.
 */
import type { CheckpointId } from './ids.js';
import type { AckInfo } from './manifest.js';

/** A message for one FIFO group; the shape of the Queue port's outgoing message. */
export interface ChannelMessage {
  readonly group: string;
  readonly body: string;
  readonly dedupId: string;
}

/** One staged sink transaction: the parts an exactly-once sink staged between two barriers. */
export interface SinkTransactionRef {
  readonly op: string;
  readonly checkpoint: number;
  /** The subtask that staged it (a rescaled restore may commit another subtask's). */
  readonly subtask: number;
  readonly parts: readonly string[];
}

export type Effect =
  | { readonly kind: 'send'; readonly queue: string; readonly message: ChannelMessage }
  /** A source's next poll; its `at` and `max` are filled in when it is sent. */
  | {
      readonly kind: 'poll';
      readonly queue: string;
      readonly group: string;
      readonly round: number;
      readonly dedupId: string;
      /** Earliest useful time for the next poll (rate limiting); undefined = now. */
      readonly notBefore?: number;
      /** The next poll restarts a source that found no data: wait a little first. */
      readonly idle: boolean;
      /** The source's offset for the next read: its reader's `limits` are computed from it. */
      readonly offset: unknown;
    }
  /** Commit a staged sink transaction (its checkpoint completed). */
  | { readonly kind: 'commit'; readonly txn: SinkTransactionRef }
  /** Every transaction up to `checkpoint` is committed: tell the manifest (FINISHED waits for it). */
  | { readonly kind: 'committed'; readonly checkpoint: CheckpointId }
  /** A line an at-least-once print sink writes. */
  | { readonly kind: 'print'; readonly line: string }
  | { readonly kind: 'blob'; readonly key: string; readonly body: string }
  /** A skipped record's dead letter (put-if-absent); a new one is counted under `reason` on the job item. */
  | { readonly kind: 'dead-letter'; readonly key: string; readonly body: string; readonly reason: string }
  | { readonly kind: 'ack'; readonly checkpoint: CheckpointId; readonly info: AckInfo }
  | { readonly kind: 'source-finished' }
  | { readonly kind: 'activity' };

/** An invocation's effects, sorted by the phase of execution each belongs to. */
export class EffectLog {
  readonly blobs: Extract<Effect, { kind: 'blob' }>[] = [];
  readonly sends: Extract<Effect, { kind: 'send' | 'poll' }>[] = [];
  readonly acks: Extract<Effect, { kind: 'ack' }>[] = [];
  readonly deadLetters: Extract<Effect, { kind: 'dead-letter' }>[] = [];
  readonly commits: SinkTransactionRef[] = [];
  readonly prints: string[] = [];
  /** Checkpoints whose `commit` this invocation carried out, in order. */
  readonly committed: CheckpointId[] = [];
  sourceFinished = false;
  activity = false;

  add(effect: Effect): void {
    switch (effect.kind) {
      case 'blob':
        this.blobs.push(effect);
        break;
      case 'send':
      case 'poll':
        this.sends.push(effect);
        break;
      case 'ack':
        this.acks.push(effect);
        break;
      case 'dead-letter':
        this.deadLetters.push(effect);
        break;
      case 'source-finished':
        this.sourceFinished = true;
        break;
      case 'activity':
        this.activity = true;
        break;
      case 'commit':
        this.commits.push(effect.txn);
        break;
      case 'print':
        this.prints.push(effect.line);
        break;
      case 'committed':
        this.committed.push(effect.checkpoint);
        break;
    }
  }
}
