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
import { KEYED_KINDS, type JobGraph, type OperatorNode, type OutputPort, type Partitioning } from './graph.js';
import { channelId, stageId, type ChannelId, type JobName, type OperatorName, type StageId, type SubtaskRef } from './ids.js';
import { keyGroupRange, type KeyGroupRange } from './keygroups.js';

export interface StageEdge {
  readonly stage: StageId;
  readonly partitioning: Partitioning;
  /** The operator of the upstream stage whose output this edge carries, and which output. */
  readonly fromOp: OperatorName;
  readonly port: OutputPort;
}

export interface StageTopology {
  readonly id: StageId;
  /** The chain, head first. */
  readonly operators: readonly OperatorNode[];
  readonly parallelism: number;
  readonly isSource: boolean;
  /** Input is hash-partitioned: the head operator's state is keyed by key group. */
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
  const byName = new Map<OperatorName, OperatorNode>();
  /** Consumers of each operator's main output, and of its late-records output. */
  const consumers = new Map<OperatorName, OperatorNode[]>();
  const lateConsumers = new Map<OperatorName, OperatorNode[]>();
  for (const op of graph.operators) {
    if (byName.has(op.name)) throw new ConfigError(`operators.${op.name}`, 'duplicate operator name');
    byName.set(op.name, op);
    consumers.set(op.name, []);
    lateConsumers.set(op.name, []);
    for (const input of op.inputs) {
      const list = (input.port === 'late' ? lateConsumers : consumers).get(input.from);
      if (!list) throw new ConfigError(`operators.${op.name}`, `input ${input.from} is not defined before it`);
      list.push(op);
    }
  }
  for (const op of graph.operators) {
    validateOperator(graph, op, byName, [...(consumers.get(op.name) ?? []), ...(lateConsumers.get(op.name) ?? [])]);
  }

  const stageOf = new Map<OperatorName, { id: StageId; ops: OperatorNode[] }>();
  const order: { id: StageId; ops: OperatorNode[] }[] = [];
  for (const op of graph.operators) {
    const input = op.inputs.length === 1 ? op.inputs[0] : undefined;
    const upstream = input ? byName.get(input.from) : undefined;
    const chains =
      input !== undefined &&
      upstream !== undefined &&
      op.chainable &&
      input.port !== 'late' &&
      input.partitioning.type === 'forward' &&
      upstream.parallelism === op.parallelism &&
      (consumers.get(upstream.name) ?? []).length === 1 &&
      !KEYED_KINDS.has(op.spec.kind);
    if (chains) {
      const stage = stageOf.get(upstream.name)!;
      stage.ops.push(op);
      stageOf.set(op.name, stage);
    } else {
      const stage = { id: stageId(op.name), ops: [op] };
      order.push(stage);
      stageOf.set(op.name, stage);
    }
  }

  for (const name of Object.keys(overrides)) {
    if (!order.some((s) => s.id === name)) {
      const inChain = stageOf.get(name as OperatorName);
      const hint = inChain ? `; ${name} is chained into stage ${inChain.id}, override that` : '';
      throw new ConfigError(`parallelism.${name}`, `is not a stage of job ${graph.name}${hint}`);
    }
  }

  const edgeTo = (consumer: OperatorNode, fromOp: OperatorName, port: OutputPort): StageEdge => ({
    stage: stageOf.get(consumer.name)!.id,
    partitioning: consumer.inputs.find((i) => i.from === fromOp && (i.port ?? 'main') === port)!.partitioning,
    fromOp,
    port,
  });
  const stages: StageTopology[] = order.map(({ id, ops }) => {
    const head = ops[0]!;
    const tail = ops[ops.length - 1]!;
    const parallelism = overrides[id] ?? head.parallelism;
    if (overrides[id] !== undefined) validateParallelism(`parallelism.${id}`, parallelism, graph.maxParallelism);
    return {
      id,
      operators: ops,
      parallelism,
      isSource: head.spec.kind === 'source',
      keyed: head.inputs.length > 0 && head.inputs.every((i) => i.partitioning.type === 'hash'),
      inputs: head.inputs.map((i) => ({ stage: stageOf.get(i.from)!.id, partitioning: i.partitioning, fromOp: i.from, port: i.port ?? 'main' })),
      outputs: [
        ...(consumers.get(tail.name) ?? []).map((c) => edgeTo(c, tail.name, 'main')),
        ...ops.flatMap((o) => (lateConsumers.get(o.name) ?? []).map((c) => edgeTo(c, o.name, 'late'))),
      ],
      queue: `${graph.name}-${id}.fifo`,
      deadLetterQueue: `${graph.name}-${id}-dlq.fifo`,
    };
  });
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
  return {
    job: graph.name,
    maxParallelism: graph.maxParallelism,
    stages,
    resources: { table: `${graph.name}-tidemark`, bucket: `tidemark-${graph.name}`, timerQueue: `${graph.name}-timer` },
  };
}

export function validateParallelism(field: string, parallelism: unknown, maxParallelism: number): void {
  if (typeof parallelism !== 'number' || !Number.isInteger(parallelism) || parallelism < 1) {
    throw new ConfigError(field, `must be a positive integer, got ${String(parallelism)}`);
  }
  if (parallelism > maxParallelism) {
    throw new ConfigError(field, `${parallelism} exceeds maxParallelism ${maxParallelism}`);
  }
}

function validateOperator(
  graph: JobGraph,
  op: OperatorNode,
  byName: Map<OperatorName, OperatorNode>,
  consumers: OperatorNode[],
): void {
  const field = `operators.${op.name}`;
  validateParallelism(`${field}.parallelism`, op.parallelism, graph.maxParallelism);
  const kind = op.spec.kind;
  if (kind === 'source' && op.inputs.length > 0) throw new ConfigError(field, 'a source takes no input');
  if (kind !== 'source' && op.inputs.length === 0) throw new ConfigError(field, `${kind} has no input`);
  if (kind === 'sink' && consumers.length > 0) throw new ConfigError(field, 'a sink has no consumers');
  if (kind !== 'sink' && !consumers.some((c) => c.inputs.some((i) => i.from === op.name && (i.port ?? 'main') === 'main'))) {
    throw new ConfigError(field, `${kind} output is not consumed; end the stream with a sink`);
  }
  for (const input of op.inputs) {
    const from = byName.get(input.from);
    if (input.port === 'late' && from && (from.spec.kind !== 'window' || from.spec.late !== 'side-output')) {
      throw new ConfigError(field, `${input.from} has no late-records output (only a window with late: 'side-output' has one)`);
    }
  }
  if (KEYED_KINDS.has(kind) && !op.inputs.every((i) => i.partitioning.type === 'hash')) {
    throw new ConfigError(field, `${kind} keeps keyed state and needs a keyed stream: call keyBy() before it`);
  }
  for (const input of op.inputs) {
    if (!byName.has(input.from)) throw new ConfigError(field, `unknown input ${input.from}`);
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

/** Input channels of a subtask, in a fixed order (stage inputs, then upstream index). */
export function inputChannels(topology: Topology, to: SubtaskRef): Channel[] {
  const stage = stageById(topology, to.stage);
  const channels: Channel[] = [];
  for (const edge of stage.inputs) {
    const upstream = stageById(topology, edge.stage);
    for (let j = 0; j < upstream.parallelism; j++) {
      if (!connects(edge.partitioning, j, to.index)) continue;
      const from = { stage: upstream.id, index: j };
      channels.push({ id: channelId(from, to), from, to });
    }
  }
  return channels;
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
