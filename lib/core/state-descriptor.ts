/**
 * What state a job graph's operators hold, as the state descriptor records it
 * (wire/state-descriptor.ts): computed from the graph alone, without running anything.
 *
 * State kinds name what the stored values are, so that a restore can tell a value the new
 * code would misread:
 *   source        `offsets`       source-offsets(<reader>)   (generator, s3, log: the reader's
 *                                                           kind up to its parameters)
 *   process       each declared   value | map | list | reducing | aggregating, or (operator
 *                                 state) list | union; each broadcast state: broadcast(map)
 *   reduce        `accumulator`   reduce-accumulator
 *   aggregate     `accumulator`   aggregate-accumulator
 *   window        `windows`       window(<assigner>, <function>), e.g. window(tumbling, reduce)
 *   sink          `transactions`  sink-transactions(<sink>)  (exactly-once sinks; print holds none)
 *   map, filter, flatMap: no state.
 */
import type { JobGraph, OperatorNode, OperatorSpec } from './graph.js';
import { isKeyedOperator } from './graph.js';
import type { OperatorStateDescriptor, StateDescriptor, StateEntryDescriptor } from './wire/state-descriptor.js';

export function describeState(graph: JobGraph, gen: number): StateDescriptor {
  return {
    v: 1,
    job: graph.name,
    gen,
    maxParallelism: graph.maxParallelism,
    operators: graph.operators.map(describeOperator),
  };
}

export function describeOperator(op: OperatorNode): OperatorStateDescriptor {
  return { name: op.name, kind: op.spec.kind, key: keyFingerprint(op), states: statesOf(op.spec) };
}

function statesOf(spec: OperatorSpec): StateEntryDescriptor[] {
  switch (spec.kind) {
    case 'source':
      return [{ name: 'offsets', kind: `source-offsets(${readerFamily(spec.reader.kind)})` }];
    case 'process':
      return [
        ...Object.entries(spec.state).map(([name, d]) => ({ name, kind: d.kind })),
        ...(spec.broadcastState ?? []).map((name) => ({ name, kind: 'broadcast(map)' })),
      ];
    case 'reduce':
    case 'aggregate':
      return [{ name: 'accumulator', kind: `${spec.kind}-accumulator` }];
    case 'window':
      return [{ name: 'windows', kind: `window(${spec.assigner.kind}, ${spec.fn.kind})` }];
    case 'sink':
      return spec.sink.guarantee === 'exactly-once' ? [{ name: 'transactions', kind: `sink-transactions(${spec.sink.kind})` }] : [];
    case 'map':
    case 'filter':
    case 'flatMap':
      return [];
  }
}

/** `generator(seed=1,count=200)` → `generator`: a source's parameters may change, its reader may not. */
const readerFamily = (kind: string) => /^[^(]*/.exec(kind)![0];

/**
 * The fingerprint of a keyed operator's key function(s): a hash of their source text
 * (`toString()`), the one thing about a key function that can be checked without running
 * it. A changed text is taken for a changed function; the same text over other captured
 * variables is not noticed. Null for an operator without keyed state.
 */
export function keyFingerprint(op: OperatorNode): string | null {
  if (!isKeyedOperator(op.spec)) return null;
  const sources = op.inputs.map((i) => (i.partitioning.type === 'hash' ? i.partitioning.key.toString() : `(${i.partitioning.type})`));
  return `fnv1a:${fnv1a(sources.join('\n'))}`;
}

/** 32-bit FNV-1a over UTF-16 code units, as 8 hex digits (core has no node:crypto). */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}
