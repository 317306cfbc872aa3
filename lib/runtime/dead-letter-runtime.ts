/**
 * The recovery/dead-letter role: reads the operators' dead-letter queues. A message the
 * operator dead-lettered itself (malformed) carries its reason and is counted on the job
 * item; nothing was lost, since it was never valid. Anything else landed here after
 * maxReceiveCount failed receives: a valid envelope of the current generation is now lost
 * to its channel, so the job fails over (the restart strategy decides when).
 */
import type { JobGraph } from '../core/graph.js';
import { generation } from '../core/ids.js';
import type { Ports } from '../ports/index.js';
import { describeEnvelope, requestFailover, type Failure } from './failover.js';
import { updateJob } from './job-records.js';
import { deadLetterReasonOf } from '../core/wire/queue-bodies.js';

export interface DeadLetterReport {
  readonly malformed: number;
  readonly failovers: number;
  readonly stale: number;
}

/** A dead-lettered body: one the operator wrapped with its reason (a DeadLetterWrapper), or an envelope. */
type DeadBody = Parameters<typeof describeEnvelope>[0] & { gen?: unknown; to?: { op?: unknown; subtask?: unknown } };

/** A valid envelope SQS gave up on: the subtask it was for, and which envelope it was. */
function lostMessage(body: DeadBody): Failure {
  const to = body.to && typeof body.to.op === 'string' ? body.to : null;
  return {
    code: 'DEAD_LETTERED',
    message: 'a message was dead-lettered after repeated failures',
    operator: to ? String(to.op) : null,
    subtask: to ? `${String(to.op)}/${String(to.subtask)}` : null,
    input: describeEnvelope(body),
  };
}

export class DeadLetterRuntime {
  constructor(
    private readonly graph: JobGraph,
    private readonly ports: Ports,
    private readonly random: () => number = Math.random,
  ) {}

  async handle(bodies: readonly string[]): Promise<DeadLetterReport> {
    const report = { malformed: 0, failovers: 0, stale: 0 };
    const reasons: Record<string, number> = {};
    for (const body of bodies) {
      let parsed: DeadBody | null = null;
      try {
        parsed = JSON.parse(body);
      } catch {
        parsed = null;
      }
      const reason = deadLetterReasonOf(parsed);
      if (reason !== null) {
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        report.malformed++;
        continue;
      }
      const job = await this.ports.manifest.getJob(this.graph.name);
      if (!job || typeof parsed?.gen !== 'number' || parsed.gen !== job.gen) {
        report.stale++;
        continue;
      }
      const updated = await requestFailover(
        this.ports.manifest,
        this.graph.name,
        this.graph.restart,
        generation(parsed.gen),
        lostMessage(parsed),
        this.ports.clock.now(),
        this.random(),
      );
      if (updated) report.failovers++;
    }
    if (report.malformed > 0) {
      await updateJob(this.ports.manifest, this.graph.name, (j) => {
        const deadLetters = { ...j.deadLetters };
        for (const [r, n] of Object.entries(reasons)) deadLetters[r] = (deadLetters[r] ?? 0) + n;
        return { ...j, deadLetters };
      });
    }
    return report;
  }
}
