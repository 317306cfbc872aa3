/**
 * Sinks users import. Exactly-once sinks stage their output per checkpoint and commit it
 * when the checkpoint completes (Flink's two-phase commit); readers see committed output only.
 */
import type { SinkSpec } from '../core/graph.js';

export interface Sink<T> {
  readonly spec: SinkSpec;
  /** Phantom: the record type. */
  readonly __type?: T;
}

/**
 * Collects records into the job's blob store, committed per checkpoint. Read them back with
 * `readCommitted`. Meant for tests and small results.
 */
export const collect = <T>(): Sink<T> => ({ spec: { kind: 'collect', guarantee: 'exactly-once' } });
