/**
 * Control envelopes the coordinator and the recovery manager send into operator queues:
 * `trigger` to every source subtask, `commit` to every subtask with a sink, `poll` to start
 * a source. Their dedup ids are deterministic, so sending twice is harmless.
 */
import type { Endpoint } from '../core/wire/envelope.js';
import { envelopes, fromCoordinator } from '../core/wire/envelope-builders.js';
import { dedupIds } from '../core/wire/dedup-ids.js';
import type { Generation } from '../core/ids.js';
import { messageGroupOf, type StageTopology, type Topology } from '../core/topology.js';
import type { Ports } from '../ports/index.js';
import { sinkStages, sourceStages } from '../core/function-spec.js';
import { sendInOrder } from './sender.js';

/** The body and dedup id of the control message to subtask `index` (endpoint `to`) of a stage. */
type ControlMessage = (to: Endpoint, index: number) => { readonly dedupId: string; readonly body: string };

function controlMessages(stages: readonly StageTopology[], message: ControlMessage) {
  return stages.flatMap((stage) =>
    Array.from({ length: stage.parallelism }, (_, index) => {
      const { dedupId, body } = message({ op: stage.id, subtask: index }, index);
      return { queue: stage.queue, message: { group: messageGroupOf(index), dedupId, body } };
    }),
  );
}

/**
 * @param savepoint the checkpoint is a savepoint: every subtask snapshots in full
 * @param at when the checkpoint was triggered (its record's): the processing time its barriers carry
 */
export async function sendTriggers(ports: Ports, topology: Topology, gen: Generation, checkpoint: number, stop: boolean, savepoint: boolean, at: number) {
  const messages = controlMessages(sourceStages(topology), (to, index) => ({
    dedupId: dedupIds.trigger(gen, checkpoint, index),
    body: envelopes.trigger(fromCoordinator(topology.job, gen, to), checkpoint, stop, savepoint, at),
  }));
  await sendInOrder(ports.queue, ports.clock, messages);
}

/** @param last the job ends with this checkpoint: sinks report their commit in the manifest */
export async function sendCommits(ports: Ports, topology: Topology, gen: Generation, checkpoint: number, last: boolean) {
  const messages = controlMessages(sinkStages(topology), (to, index) => ({
    dedupId: dedupIds.commit(gen, checkpoint, index),
    body: envelopes.commit(fromCoordinator(topology.job, gen, to), checkpoint, last),
  }));
  await sendInOrder(ports.queue, ports.clock, messages);
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
      ...controlMessages([stage], (to, index) => {
        const { round, limits } = polls[index]!;
        return {
          dedupId: dedupIds.startPoll(gen, index),
          body: envelopes.startPoll(fromCoordinator(topology.job, gen, to), { round, at: ports.clock.now(), max: batch, limits }),
        };
      }),
    );
  }
  await sendInOrder(ports.queue, ports.clock, messages);
}
