/**
 * What processing a group decided to do, collected in order and carried out afterwards:
 * read → decide → execute. Every effect is idempotent (deterministic dedup ids, immutable
 * blob keys, set-like acks), so a retried or overlapping invocation can repeat all of them.
 */
import type { CheckpointId } from '../core/ids.js';
import type { AckInfo } from '../core/manifest.js';
import type { OutgoingMessage } from '../ports/queue.js';

export type Effect =
  | { readonly kind: 'send'; readonly queue: string; readonly message: OutgoingMessage }
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
    }
  | { readonly kind: 'blob'; readonly key: string; readonly body: string }
  | { readonly kind: 'ack'; readonly checkpoint: CheckpointId; readonly info: AckInfo }
  | { readonly kind: 'source-finished' }
  | { readonly kind: 'activity' };

export class EffectLog {
  readonly blobs: Extract<Effect, { kind: 'blob' }>[] = [];
  readonly sends: Extract<Effect, { kind: 'send' | 'poll' }>[] = [];
  readonly acks: Extract<Effect, { kind: 'ack' }>[] = [];
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
      case 'source-finished':
        this.sourceFinished = true;
        break;
      case 'activity':
        this.activity = true;
        break;
    }
  }
}
