/**
 * What the operators of the sequential evaluation (evaluate.ts) hand each other: events,
 * records with their timestamp and watermarks, in order; and how an operator's inputs merge
 * into the one sequence it reads.
 */
import type { OperatorNode, OutputPort, Partitioning } from '../core/graph.js';
import type { UserErrors } from './evaluate-user-errors.js';

/** An operator's output: its records and its watermarks, in the order it emitted them. */
export type Event = { readonly kind: 'rec'; readonly value: unknown; readonly ts: number | undefined } | { readonly kind: 'wm'; readonly wm: number };

/** An operator's input: a record that crossed a keyBy carries its key, and the key encoded;
 *  one on the second input of a connected process function says so, and a broadcast one
 *  there which subtask's copy it is (`copy`: the subtask's broadcast state takes it). */
export type Input =
  | {
      readonly kind: 'rec';
      readonly value: unknown;
      readonly ts: number | undefined;
      readonly key?: unknown;
      readonly encoded?: string;
      readonly second?: true;
      readonly copy?: number;
    }
  | { readonly kind: 'wm'; readonly wm: number };

/** Watermarks of finished input, and of none yet. */
export const MAX = Number.MAX_SAFE_INTEGER;
export const MIN = Number.MIN_SAFE_INTEGER;

/** How many of the consumer's subtasks receive each record of an edge. */
function deliveries(partitioning: Partitioning, consumerParallelism: number): number {
  switch (partitioning.type) {
    case 'forward':
    case 'rebalance':
    case 'hash':
      return 1;
    case 'broadcast':
      return consumerParallelism;
  }
}

/** An operator's output: its main stream and, for a process function, each side output
 *  (watermarks included, as the engine sends them on every output channel). */
export interface RecordOperatorOutput {
  readonly main: Event[];
  readonly side: Map<OutputPort, Event[]>;
}

/** Key of an operator's output other than its main one in the map `mergeInputs` reads. */
export const otherOutput = (op: string, port: OutputPort) => `${op}\n${port}`;

/**
 * Inputs one after another, each record as many times as subtasks receive it; the
 * watermark is the minimum over inputs (others start at MIN). A record crossing a keyBy
 * gets its key here, before the operator sees it, as the engine keys it when routing.
 * `others`: every operator's other outputs (late records, side outputs), by `otherOutput`.
 */
export function mergeInputs(op: OperatorNode, main: Map<string, Event[]>, others: Map<string, Event[]>, errors: UserErrors): Input[] {
  const marks = op.inputs.map(() => MIN);
  let current = MIN;
  const out: Input[] = [];
  op.inputs.forEach((input, i) => {
    const copies = deliveries(input.partitioning, op.parallelism);
    const selector = input.partitioning.type === 'hash' ? input.partitioning.key : null;
    const port = input.port ?? 'main';
    for (const e of (port === 'main' ? main.get(input.from) : others.get(otherOutput(input.from, port))) ?? []) {
      if (e.kind === 'rec' && selector) {
        const keyed = errors.key(selector, e.value);
        if (keyed) out.push({ kind: 'rec', value: e.value, ts: e.ts, key: keyed.key, encoded: keyed.encoded, ...(input.input === 2 ? { second: true as const } : {}) });
        continue;
      }
      if (e.kind === 'rec' && input.input === 2) {
        for (let c = 0; c < copies; c++) out.push({ ...e, second: true, copy: c });
        continue;
      }
      if (e.kind === 'rec') {
        for (let c = 0; c < copies; c++) out.push(e);
        continue;
      }
      marks[i] = Math.max(marks[i]!, e.wm);
      const wm = Math.min(...marks);
      if (wm > current) {
        current = wm;
        out.push({ kind: 'wm', wm });
      }
    }
  });
  return out;
}
