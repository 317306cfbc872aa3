/**
 * Topology: the pure compilation of a job graph into stages (chains of operators run by one
 * task), subtasks, channels, key-group ranges and resource names. It is the single source
 * of truth that the runtime, the local host and the CDK construct all read; queue, table
 * and bucket names are never written anywhere else.
 *
 * Chaining follows Flink: an operator joins its upstream's stage when the edge is forward,
 * parallelism is equal, it has that single input and the upstream has no other consumer.
 */
import { ConfigError } from './errors.js';
import { isKeyedOperator, validateOperator, validateParallelism, type JobGraph, type OperatorNode, type OutputPort, type Partitioning } from './graph.js';
import { channelId, stageId, type ChannelId, type JobName, type OperatorName, type StageId, type SubtaskRef } from './ids.js';
import { keyGroupRange, type KeyGroupRange } from './keygroups.js';

export interface StageEdge {
  readonly stage: StageId;
  readonly partitioning: Partitioning;
  /** The operator of the upstream stage whose output this edge carries, and which output. */
  readonly fromOp: OperatorName;
  readonly port: OutputPort;
  /** Which of the consumer head's inputs the edge feeds (its index there): a channel between
   *  two subtasks carries every edge between their stages, and records name their input. */
  readonly input: number;
}

export interface StageTopology {
  readonly id: StageId;
  /** The chain, head first. */
  readonly operators: readonly OperatorNode[];
  readonly parallelism: number;
  readonly isSource: boolean;
  /** Input is hash-partitioned (but for a broadcast second input): the head operator's state is keyed by key group. */
  readonly keyed: boolean;
  readonly inputs: readonly StageEdge[];
  readonly outputs: readonly StageEdge[];
  readonly queue: string;
  readonly deadLetterQueue: string;
}

export interface Resources {
  readonly table: string;
  readonly bucket: string;
  /** Standard queue with per-message delay: the coordinator's sub-minute timer. */
  readonly timerQueue: string;
}

export interface Topology {
  readonly job: JobName;
  readonly maxParallelism: number;
  readonly stages: readonly StageTopology[];
  readonly resources: Resources;
}

/** Parallelism overrides by stage id (the chain head's operator name), for rescaling restores. */
export type ParallelismOverrides = Readonly<Record<string, number>>;

export function compileTopology(graph: JobGraph, overrides: ParallelismOverrides = {}): Topology {
  const index = indexOperators(graph);
  for (const op of graph.operators) validateOperator(graph, op, index.byName, index.allConsumers(op.name));
  const chains = chainOperators(graph, index);
  checkOverrides(graph, chains, overrides);
  const stages = chains.order.map((chain) => stageOf(graph, chain, chains, index, overrides));
  checkForwardParallelism(stages);
  return {
    job: graph.name,
    maxParallelism: graph.maxParallelism,
    stages,
    resources: jobResources(graph.name),
  };
}

/**
 * The names of a job's table, bucket and timer queue where the local runner provisions them
 * (a CDK stack names its table and bucket itself; its queues keep the topology's names).
 * From the job's name alone, so the operations commands find a job without its file.
 */
export const jobResources = (job: string) => ({ table: `${job}-tidemark`, bucket: `tidemark-${job}`, timerQueue: `${job}-timer` });

/** The operators by name, and the consumers of each one's main output and of its late records. */
interface OperatorIndex {
  readonly byName: Map<OperatorName, OperatorNode>;
  readonly consumers: Map<OperatorName, OperatorNode[]>;
  /** Consumers of an operator's other outputs (a window's late records, side outputs), with the port. */
  readonly sideConsumers: Map<OperatorName, { readonly consumer: OperatorNode; readonly port: OutputPort }[]>;
  allConsumers(name: OperatorName): OperatorNode[];
}

/** A chain of operators run by one task, head first; its id is the head's name. */
interface Chain {
  readonly id: StageId;
  readonly ops: OperatorNode[];
}

/** The chains in graph order, and the chain of every operator. */
interface Chains {
  readonly order: Chain[];
  readonly chainOf: Map<OperatorName, Chain>;
}

/** Every input must name an operator defined before it (the graph is in topological order). */
function indexOperators(graph: JobGraph): OperatorIndex {
  const byName = new Map<OperatorName, OperatorNode>();
  const consumers = new Map<OperatorName, OperatorNode[]>();
  const sideConsumers = new Map<OperatorName, { consumer: OperatorNode; port: OutputPort }[]>();
  for (const op of graph.operators) {
    if (byName.has(op.name)) throw new ConfigError(`operators.${op.name}`, 'duplicate operator name');
    byName.set(op.name, op);
    consumers.set(op.name, []);
    sideConsumers.set(op.name, []);
    for (const input of op.inputs) {
      const port = input.port ?? 'main';
      if (!consumers.has(input.from)) throw new ConfigError(`operators.${op.name}`, `input ${input.from} is not defined before it`);
      if (port === 'main') consumers.get(input.from)!.push(op);
      else sideConsumers.get(input.from)!.push({ consumer: op, port });
    }
  }
  const allConsumers = (name: OperatorName) => [...(consumers.get(name) ?? []), ...(sideConsumers.get(name) ?? []).map((s) => s.consumer)];
  return { byName, consumers, sideConsumers, allConsumers };
}

/** Operators into chains, by the chaining rule above. */
function chainOperators(graph: JobGraph, { byName, consumers }: OperatorIndex): Chains {
  const chainOf = new Map<OperatorName, Chain>();
  const order: Chain[] = [];
  for (const op of graph.operators) {
    const input = op.inputs.length === 1 ? op.inputs[0] : undefined;
    const upstream = input ? byName.get(input.from) : undefined;
    const chains =
      input !== undefined &&
      upstream !== undefined &&
      op.chainable &&
      (input.port ?? 'main') === 'main' &&
      input.partitioning.type === 'forward' &&
      upstream.parallelism === op.parallelism &&
      (consumers.get(upstream.name) ?? []).length === 1 &&
      !isKeyedOperator(op.spec);
    const chain = chains ? chainOf.get(upstream.name)! : { id: stageId(op.name), ops: [] };
    if (!chains) order.push(chain);
    chain.ops.push(op);
    chainOf.set(op.name, chain);
  }
  return { order, chainOf };
}

/** An override must name a stage, not an operator chained into one. */
function checkOverrides(graph: JobGraph, { order, chainOf }: Chains, overrides: ParallelismOverrides): void {
  for (const name of Object.keys(overrides)) {
    if (!order.some((s) => s.id === name)) {
      const inChain = chainOf.get(name as OperatorName);
      const hint = inChain ? `; ${name} is chained into stage ${inChain.id}, override that` : '';
      throw new ConfigError(`parallelism.${name}`, `is not a stage of job ${graph.name}${hint}`);
    }
  }
}

/** A chain as a stage: its parallelism (overridden or the head's), its edges and its queues. */
function stageOf(graph: JobGraph, { id, ops }: Chain, { chainOf }: Chains, index: OperatorIndex, overrides: ParallelismOverrides): StageTopology {
  const head = ops[0]!;
  const tail = ops[ops.length - 1]!;
  const parallelism = overrides[id] ?? head.parallelism;
  if (overrides[id] !== undefined) validateParallelism(`parallelism.${id}`, parallelism, graph.maxParallelism);
  const edgeTo = (consumer: OperatorNode, fromOp: OperatorName, port: OutputPort): StageEdge => {
    const input = consumer.inputs.findIndex((i) => i.from === fromOp && (i.port ?? 'main') === port);
    return { stage: chainOf.get(consumer.name)!.id, partitioning: consumer.inputs[input]!.partitioning, fromOp, port, input };
  };
  return {
    id,
    operators: ops,
    parallelism,
    isSource: head.spec.kind === 'source',
    // A broadcast second input (broadcast state) carries no keys; the first decides.
    keyed: head.inputs.length > 0 && head.inputs.every((i) => i.partitioning.type === 'hash' || (i.input === 2 && i.partitioning.type === 'broadcast')),
    inputs: head.inputs.map((i, input) => ({ stage: chainOf.get(i.from)!.id, partitioning: i.partitioning, fromOp: i.from, port: i.port ?? 'main', input })),
    outputs: [
      ...(index.consumers.get(tail.name) ?? []).map((c) => edgeTo(c, tail.name, 'main')),
      ...ops.flatMap((o) => (index.sideConsumers.get(o.name) ?? []).map((s) => edgeTo(s.consumer, o.name, s.port))),
    ],
    queue: `${graph.name}-${id}.fifo`,
    deadLetterQueue: `${graph.name}-${id}-dlq.fifo`,
  };
}

/** A forward edge connects subtask i to subtask i: both ends need the same parallelism. */
function checkForwardParallelism(stages: readonly StageTopology[]): void {
  for (const stage of stages) {
    for (const edge of stage.inputs) {
      const from = stages.find((s) => s.id === edge.stage)!;
      if (edge.partitioning.type === 'forward' && from.parallelism !== stage.parallelism) {
        throw new ConfigError(
          `parallelism.${stage.id}`,
          `forward partitioning from ${from.id} (parallelism ${from.parallelism}) needs equal parallelism, got ${stage.parallelism}`,
        );
      }
    }
  }
}

export function stageById(topology: Topology, id: StageId | string): StageTopology {
  const stage = topology.stages.find((s) => s.id === id);
  if (!stage) throw new ConfigError('stage', `job ${topology.job} has no stage ${id}`);
  return stage;
}

export function subtasksOf(topology: Topology): SubtaskRef[] {
  return topology.stages.flatMap((s) => Array.from({ length: s.parallelism }, (_, index) => ({ stage: s.id, index })));
}

export interface Channel {
  readonly id: ChannelId;
  readonly from: SubtaskRef;
  readonly to: SubtaskRef;
}

function connects(partitioning: Partitioning, fromIndex: number, toIndex: number): boolean {
  return partitioning.type !== 'forward' || fromIndex === toIndex;
}

/** Input channels of a subtask, in a fixed order (stage inputs, then upstream index); each
 *  once, though several inputs may come from one upstream stage (its main and side outputs). */
export function inputChannels(topology: Topology, to: SubtaskRef): Channel[] {
  const stage = stageById(topology, to.stage);
  const channels = new Map<ChannelId, Channel>();
  for (const edge of stage.inputs) {
    const upstream = stageById(topology, edge.stage);
    for (let j = 0; j < upstream.parallelism; j++) {
      if (!connects(edge.partitioning, j, to.index)) continue;
      const from = { stage: upstream.id, index: j };
      const id = channelId(from, to);
      if (!channels.has(id)) channels.set(id, { id, from, to });
    }
  }
  return [...channels.values()];
}

/** Output channels of a subtask per output edge, indexed by downstream subtask. */
export function outputTargets(topology: Topology, from: SubtaskRef): { edge: StageEdge; targets: SubtaskRef[] }[] {
  const stage = stageById(topology, from.stage);
  return stage.outputs.map((edge) => {
    const downstream = stageById(topology, edge.stage);
    const targets: SubtaskRef[] = [];
    for (let i = 0; i < downstream.parallelism; i++) {
      if (connects(edge.partitioning, from.index, i)) targets.push({ stage: downstream.id, index: i });
    }
    return { edge, targets };
  });
}

export function keyGroupsOf(topology: Topology, ref: SubtaskRef): KeyGroupRange {
  return keyGroupRange(topology.maxParallelism, stageById(topology, ref.stage).parallelism, ref.index);
}

/** SQS message group of a subtask within its stage's FIFO queue. */
export const messageGroupOf = (index: number) => String(index);
