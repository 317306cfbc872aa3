/**
 * Carries out the coordinator's schedule: on a timer message or a heartbeat, decide (core),
 * move the chain's token with a conditional write on the job item, send the next delayed
 * timer message, and run the tick. The token moves before the message is sent, so a crash
 * in between leaves a quiet chain: the redelivered firing or the next heartbeat restarts it.
 */
import { decideTimer, timerPeriodMs, type TimerFiring } from '../core/coordinator-timer.js';
import type { JobGraph } from '../core/graph.js';
import { compileTopology } from '../core/topology.js';
import type { Ports } from '../ports/index.js';
import type { CoordinatorRuntime, TickReport } from './coordinator-runtime.js';
import { updateJob } from './job-records.js';
import { sendInOrder } from './sender.js';
import { dedupIds } from '../core/wire/dedup-ids.js';
import { timerMessageBody } from '../core/wire/queue-bodies.js';

export async function onSchedule(
  graph: JobGraph,
  ports: Ports,
  coordinator: CoordinatorRuntime,
  firing: TimerFiring,
): Promise<TickReport | null> {
  const job = await ports.manifest.getJob(graph.name);
  if (!job) return null;
  const now = ports.clock.now();
  const decision = decideTimer(firing, job.timer, now, timerPeriodMs(graph.checkpoints.interval));
  if (decision.arm) {
    const { token, delaySeconds } = decision.arm;
    const moved = await updateJob(ports.manifest, graph.name, (j) =>
      j.timer.token === job.timer.token ? { ...j, timer: { token, firedAt: now } } : null,
    );
    if (moved) {
      // Entries the queue refuses are sent again; if the send fails outright, the redelivery
      // of the message that fired this re-arms the chain (core/coordinator-timer).
      await sendInOrder(ports.queue, ports.clock, [
        { queue: compileTopology(graph).resources.timerQueue, message: { group: 'timer', dedupId: dedupIds.timer(token), body: timerMessageBody(graph.name, token), delaySeconds } },
      ]);
    }
  }
  return decision.tick ? coordinator.tick() : null;
}
