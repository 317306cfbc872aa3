/**
 * A side output (Flink's OutputTag): a named stream of records of type R beside an
 * operator's main one. A process function lists its tags in `sideOutputs`, emits to one with
 * `ctx.output(tag, value)`, and `getSideOutput(tag)` of its result reads it. The type is
 * phantom, as a state descriptor's: only the name is read at run time.
 */
import { requireName } from '../core/config.js';

export interface OutputTag<R> {
  readonly kind: 'output-tag';
  readonly name: string;
  /** Phantom: the record type. */
  readonly __type?: R;
}

export function outputTag<R>(name: string): OutputTag<R> {
  requireName('outputTag', name);
  return { kind: 'output-tag', name };
}
