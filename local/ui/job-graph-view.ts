/**
 * The job graph as the web UI and `/jobs/:id` show it, in the shape of Flink's REST API
 * (`vertices` with `metrics`, `plan.nodes` with `inputs` and their `ship_strategy`): pure, from
 * observed facts — the job's stages, each stage queue's depth, and the acknowledgements of the
 * generation's two latest completed checkpoints.
 *
 * Where ours differ from Flink's, and why:
 * - Records in and out and the watermarks are the figures the subtasks recorded at their
 *   latest completed checkpoint (they are sampled at the barrier, off the hot path), so they
 *   are as fresh as that checkpoint; `asOfCheckpoint` says which.
 * - Rates are the difference between the two latest completed checkpoints of the generation
 *   over the time between their triggers; null until there are two.
 * - Backpressure is the stage queue's depth (messages waiting plus in flight): an operator
 *   that keeps up leaves its queue near empty. The level is `ok` below LOW_DEPTH, `high` from
 *   HIGH_DEPTH, `low` between (Flink's three levels, read from the queue, not sampled threads).
 */
import type { CheckpointAcks, CheckpointRecord } from '../../lib/core/manifest.js';
import type { StageTopology } from '../../lib/core/topology.js';

export const LOW_DEPTH = 10;
export const HIGH_DEPTH = 100;

export type BackpressureLevel = 'ok' | 'low' | 'high';

export interface SubtaskFigures {
  readonly subtask: number;
  readonly recordsIn: number | null;
  readonly recordsOut: number | null;
  /** Null before the subtask had one. */
  readonly watermark: number | null;
}

export interface VertexView {
  readonly id: string;
  readonly name: string;
  /** The chain, head first. */
  readonly operators: readonly string[];
  readonly parallelism: number;
  readonly queue: { readonly name: string; readonly visible: number; readonly inFlight: number };
  readonly backpressure: BackpressureLevel;
  readonly metrics: {
    readonly 'read-records': number | null;
    readonly 'write-records': number | null;
    readonly 'read-records-per-second': number | null;
    readonly 'write-records-per-second': number | null;
    readonly asOfCheckpoint: number | null;
  };
  /** The least of the subtasks' (Flink's vertex watermark); null before every subtask has one. */
  readonly watermark: number | null;
  readonly subtasks: readonly SubtaskFigures[];
}

export interface PlanNode {
  readonly id: string;
  readonly description: string;
  readonly parallelism: number;
  /** Flink's ship strategies: FORWARD, HASH, REBALANCE, BROADCAST; `port` names a side or late output. */
  readonly inputs: readonly { readonly id: string; readonly ship_strategy: string; readonly port: string }[];
}

export interface JobGraphView {
  readonly vertices: readonly VertexView[];
  readonly plan: { readonly nodes: readonly PlanNode[] };
}

/** A completed checkpoint with its acknowledgements. */
export interface AckedCheckpoint {
  readonly record: CheckpointRecord;
  readonly acks: CheckpointAcks;
}

export interface GraphFacts {
  readonly stages: readonly StageTopology[];
  readonly depths: ReadonlyMap<string, { readonly visible: number; readonly inFlight: number }>;
  /** The generation's latest completed checkpoint, and the one before it. */
  readonly latest: AckedCheckpoint | null;
  readonly previous: AckedCheckpoint | null;
}

export function jobGraphView(facts: GraphFacts): JobGraphView {
  return {
    vertices: facts.stages.map((s) => vertexView(s, facts)),
    plan: { nodes: facts.stages.map(planNode) },
  };
}

export function backpressureLevel(depth: number): BackpressureLevel {
  if (depth >= HIGH_DEPTH) return 'high';
  return depth >= LOW_DEPTH ? 'low' : 'ok';
}

function vertexView(stage: StageTopology, facts: GraphFacts): VertexView {
  const depth = facts.depths.get(stage.queue) ?? { visible: 0, inFlight: 0 };
  const subtasks = subtaskFigures(stage, facts.latest);
  const now = totals(subtasks);
  const before = facts.previous ? totals(subtaskFigures(stage, facts.previous)) : null;
  const seconds = facts.latest && facts.previous ? (facts.latest.record.triggeredAt - facts.previous.record.triggeredAt) / 1000 : 0;
  const rate = (a: number | null, b: number | null | undefined) => (a === null || b === null || b === undefined || seconds <= 0 ? null : Math.max(0, (a - b) / seconds));
  const marks = subtasks.map((s) => s.watermark);
  return {
    id: stage.id,
    name: stage.operators.map((op) => op.name as string).join(' → '),
    operators: stage.operators.map((op) => op.name as string),
    parallelism: stage.parallelism,
    queue: { name: stage.queue, visible: depth.visible, inFlight: depth.inFlight },
    backpressure: backpressureLevel(depth.visible + depth.inFlight),
    metrics: {
      'read-records': now.in,
      'write-records': now.out,
      'read-records-per-second': rate(now.in, before?.in),
      'write-records-per-second': rate(now.out, before?.out),
      asOfCheckpoint: facts.latest && subtasks.some((s) => s.recordsIn !== null) ? facts.latest.record.id : null,
    },
    watermark: marks.length > 0 && marks.every((w): w is number => w !== null) ? Math.min(...marks) : null,
    subtasks,
  };
}

/** Per subtask of the stage, what it acknowledged in that checkpoint (nulls where it did not). */
function subtaskFigures(stage: StageTopology, checkpoint: AckedCheckpoint | null): SubtaskFigures[] {
  return Array.from({ length: stage.parallelism }, (_, i) => {
    const ack = checkpoint?.acks[`${stage.id}/${i}`];
    return {
      subtask: i,
      recordsIn: ack ? ack.progress : null,
      recordsOut: ack?.emitted ?? null,
      watermark: typeof ack?.watermark === 'number' ? ack.watermark : null,
    };
  });
}

function totals(subtasks: readonly SubtaskFigures[]): { in: number | null; out: number | null } {
  const sum = (xs: (number | null)[]) => (xs.length > 0 && xs.every((x): x is number => x !== null) ? xs.reduce((n, x) => n + x, 0) : null);
  return { in: sum(subtasks.map((s) => s.recordsIn)), out: sum(subtasks.map((s) => s.recordsOut)) };
}

function planNode(stage: StageTopology): PlanNode {
  return {
    id: stage.id,
    description: stage.operators.map((op) => `${op.spec.kind} ${op.name as string}`).join(' → '),
    parallelism: stage.parallelism,
    inputs: stage.inputs.map((e) => ({ id: e.stage as string, ship_strategy: e.partitioning.type.toUpperCase(), port: String(e.port) })),
  };
}
