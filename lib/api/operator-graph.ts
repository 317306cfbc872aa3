/**
 * What a stream needs of the job it belongs to: a way to add the operator it feeds. Streams
 * are written against this interface, not against JobBuilder, so that the job (which makes
 * the first stream of every source) and the streams do not import each other.
 *
 * A stream is only a handle on operator outputs already in the graph: every operator call
 * on it adds one node through `add`, which validates the name and the parallelism and
 * throws ConfigError naming the field, before the stream it returns exists.
 */
import type { OperatorNode, OperatorSpec, OutputPort, Partitioning } from '../core/graph.js';
import type { OperatorName } from '../core/ids.js';

export interface OperatorOptions {
  /** @default the job's parallelism */
  readonly parallelism?: number;
  /** Start a new chain at this operator instead of running it in its upstream's task. */
  readonly startNewChain?: boolean;
}

/** An upstream operator's output a stream reads: its records, or a window's late records. */
export interface Producer {
  readonly from: OperatorName;
  readonly port?: OutputPort;
}

/**
 * One input of the operator being added. A null partitioning means the stream did not ask
 * for one: the graph picks forward for equal parallelism and rebalance otherwise, as Flink.
 */
export interface ProducerInput extends Producer {
  readonly partitioning: Partitioning | null;
  /** Which input of a two-input operator it feeds. @default 1 */
  readonly input?: 1 | 2;
}

/** The graph of one job under construction (JobBuilder). */
export interface OperatorGraph {
  /** Adds an operator reading `inputs`, each of which must already be in the graph. */
  add(name: string, spec: OperatorSpec, inputs: readonly ProducerInput[], options: OperatorOptions): OperatorNode;
}

/**
 * Adds the operator reading every one of `producers` with the same partitioning; returns the
 * producer of its output, for the stream that reads it.
 */
export function addOperator(
  graph: OperatorGraph,
  producers: readonly Producer[],
  partitioning: Partitioning | null,
  operator: { readonly name: string; readonly spec: OperatorSpec; readonly options?: OperatorOptions | undefined },
): Producer[] {
  const inputs = producers.map((p) => ({ ...p, partitioning }));
  const node = graph.add(operator.name, operator.spec, inputs, operator.options ?? {});
  return [{ from: node.name }];
}
