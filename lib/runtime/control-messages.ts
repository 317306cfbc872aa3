/**
 * Control envelopes the coordinator and the recovery manager send into operator queues:
 * `trigger` to every source subtask, `commit` to every subtask with a sink, `poll` to start
 * a source. Their dedup ids are deterministic, so sending twice is harmless.
 */
import { COORDINATOR, ENVELOPE_VERSION, type ControlEnvelope } from '../core/envelope.js';
import type { Generation, JobName } from '../core/ids.js';
import { messageGroupOf, type StageTopology, type Topology } from '../core/topology.js';
import type { Ports } from '../ports/index.js';
import { sinkStages, sourceStages } from '../core/function-spec.js';
import { sendInOrder } from './sender.js';

type Body = Omit<ControlEnvelope, 'v' | 'job' | 'gen' | 'from' | 'to'> & Record<string, unknown>;

function controlMessages(job: JobName, gen: Generation, stages: readonly StageTopology[], body: (index: number) => Body, tag: string) {
  return stages.flatMap((stage) =>
    Array.from({ length: stage.parallelism }, (_, index) => ({
      queue: stage.queue,
      message: {
        group: messageGroupOf(index),
        dedupId: `${gen}:${tag}:${index}`,
        body: JSON.stringify({ v: ENVELOPE_VERSION, job, gen, from: COORDINATOR, to: { op: stage.id, subtask: index }, ...body(index) }),
      },
    })),
  );
}

export async function sendTriggers(ports: Ports, topology: Topology, gen: Generation, checkpoint: number, stop: boolean) {
  const body = () => ({ kind: 'trigger' as const, cp: checkpoint, ...(stop ? { stop: true } : {}) });
  await sendInOrder(ports.queue, ports.clock, controlMessages(topology.job, gen, sourceStages(topology), body, `trigger:${checkpoint}`));
}

/** @param last the job ends with this checkpoint: sinks report their commit in the manifest */
export async function sendCommits(ports: Ports, topology: Topology, gen: Generation, checkpoint: number, last: boolean) {
  const body = () => ({ kind: 'commit' as const, cp: checkpoint, ...(last ? { last: true } : {}) });
  await sendInOrder(ports.queue, ports.clock, controlMessages(topology.job, gen, sinkStages(topology), body, `commit:${checkpoint}`));
}

/** First poll of each source subtask in a generation, at the round its restored state
 *  expects, with the limits its reader computes for the restored offset. */
export async function sendStartPolls(
  ports: Ports,
  topology: Topology,
  gen: Generation,
  start: (stage: StageTopology, index: number) => Promise<{ round: number; limits: unknown }>,
) {
  const messages = [];
  for (const stage of sourceStages(topology)) {
    const head = stage.operators[0]!.spec;
    const batch = head.kind === 'source' ? head.batchSize : 0;
    const polls = await Promise.all(Array.from({ length: stage.parallelism }, (_, index) => start(stage, index)));
    messages.push(
      ...controlMessages(topology.job, gen, [stage], (index) => {
        const { round, limits } = polls[index]!;
        return { kind: 'poll' as const, round, at: ports.clock.now(), max: batch, start: true, ...(limits === undefined ? {} : { limits }) };
      }, 'start'),
    );
  }
  await sendInOrder(ports.queue, ports.clock, messages);
}
