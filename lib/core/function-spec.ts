/**
 * What each role's function is told through its environment and which queues it sends to,
 * from the topology: the environment infra/ sets on each Lambda function and the local host
 * on each handler, and the sends infra/ grants (DESIGN §10, least privilege). Part of the
 * resource spec (core/resource-spec).
 */
import type { StageId } from './ids.js';
import { stageById, type StageTopology, type Topology } from './topology.js';

export type Role = 'operator' | 'coordinator' | 'recovery';

export interface FunctionSpec {
  readonly role: Role;
  /**
   * What the function reads from its environment besides the job's table and bucket, which
   * every role reads (the topology's names locally, CloudFormation's on AWS). Keyed as
   * lib/adapters/aws/config's ENV, which names the variables.
   */
  readonly environment: { readonly stage?: StageId };
  /** Stage queues and dead-letter queues the function sends to, by name. */
  readonly sendsTo: readonly string[];
}

export const sourceStages = (t: Topology) => t.stages.filter((s) => s.isSource);
export const sinkStages = (t: Topology) => t.stages.filter((s) => s.operators.some((o) => o.spec.kind === 'sink'));

export function operatorFunction(topology: Topology, stage: StageTopology): FunctionSpec {
  const downstream = stage.outputs.map((e) => stageById(topology, e.stage));
  return {
    role: 'operator',
    environment: { stage: stage.id },
    // Malformed messages to its dead-letter queue; a source its next poll into its own
    // group; records and barriers downstream; commits to every sink stage (whichever
    // subtask's ack completes a checkpoint notifies them).
    sendsTo: unique([stage.deadLetterQueue, ...(stage.isSource ? [stage.queue] : []), ...queuesOf(topology, [...downstream, ...sinkStages(topology)])]),
  };
}

/**
 * Control messages (runtime/control-messages): triggers and first polls to the sources,
 * commits to the sinks. Its own timer queue comes with the timer, when the job has one.
 */
export function coordinatorFunction(topology: Topology): FunctionSpec {
  return { role: 'coordinator', environment: {}, sendsTo: queuesOf(topology, [...sourceStages(topology), ...sinkStages(topology)]) };
}

/** It only consumes the dead-letter queues; what it finds goes on the job item (counts, failover requests). */
export function recoveryFunction(): FunctionSpec {
  return { role: 'recovery', environment: {}, sendsTo: [] };
}

/** The queues of the given stages, each once, in topology order. */
function queuesOf(topology: Topology, stages: readonly StageTopology[]): string[] {
  const ids = new Set(stages.map((s) => s.id));
  return topology.stages.filter((s) => ids.has(s.id)).map((s) => s.queue);
}

const unique = (names: readonly string[]) => [...new Set(names)];
