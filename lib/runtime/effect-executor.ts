/**
 * Carries out an invocation's effects, in the order that keeps them safe to repeat:
 * staged blobs and snapshots first (put-if-absent), then sends (ordered per group), then
 * acks (a completed ack notifies sinks), then reports to the job item. The working-state
 * commit comes after all of this, so a crash anywhere before it replays everything.
 */
import { subtaskKey, type Generation, type SubtaskRef } from '../core/ids.js';
import type { Topology } from '../core/topology.js';
import type { Ports } from '../ports/index.js';
import type { OutgoingMessage } from '../ports/queue.js';
import { endsJob } from '../core/manifest.js';
import { sendCommits } from './control-messages.js';
import type { EffectLog } from '../core/effects.js';
import { updateJob } from './job-records.js';
import { sendInOrder, type SenderOptions } from './sender.js';
import { envelopes } from '../core/wire/envelope-builders.js';
import type { JobGraph, SourceIo } from '../core/graph.js';
import { commitTransaction } from './sink-commit.js';

export interface FlowControl {
  /** Most records the next poll of a source may emit (0 = downstream is full, just re-poll). */
  permit(topology: Topology, stage: string, batchSize: number): Promise<number>;
  /** Upper bound on how long an invocation waits before sending a throttled or idle poll. */
  readonly maxPollWaitMs: number;
  /** Wait before re-polling a source that found no input. */
  readonly idlePollMs: number;
}

export const unlimitedFlow: FlowControl = {
  permit: async (_t, _s, batch) => batch,
  maxPollWaitMs: 1000,
  idlePollMs: 1000,
};

export interface ExecutionContext {
  readonly ports: Ports;
  readonly graph: JobGraph;
  readonly topology: Topology;
  readonly io: SourceIo;
  readonly flow: FlowControl;
  readonly sender?: SenderOptions;
  /** Where at-least-once print sinks write. */
  readonly print: (line: string) => void;
}

export async function executeEffects(ctx: ExecutionContext, ref: SubtaskRef, gen: Generation, effects: EffectLog): Promise<void> {
  const { ports, topology, flow, sender } = ctx;
  const writing = ports.clock.now();
  await Promise.all(effects.blobs.map((b) => ports.blobs.put(b.key, b.body, { ifAbsent: true })));
  // Flink's asynchronous snapshot part: the snapshots' upload (with this invocation's other blobs).
  const asyncMs = ports.clock.now() - writing;
  await writeDeadLetters(ports, topology.job, effects.deadLetters);
  for (const txn of effects.commits) await commitTransaction(ports, ctx.graph, txn);
  // Only once the output is there: a finished job's sinks have committed its last checkpoint.
  for (const checkpoint of effects.committed) await ports.manifest.markCommitted(topology.job, checkpoint, subtaskKey(ref));
  for (const line of effects.prints) ctx.print(line);

  const messages: { queue: string; message: OutgoingMessage }[] = [];
  for (const s of effects.sends) {
    if (s.kind === 'send') {
      messages.push(s);
      continue;
    }
    const wait = s.idle ? flow.idlePollMs : s.notBefore !== undefined ? s.notBefore - ports.clock.now() : 0;
    if (wait > 0) await ports.clock.sleep(Math.min(wait, flow.maxPollWaitMs));
    const stage = topology.stages.find((x) => x.id === ref.stage)!;
    const head = stage.operators[0]!.spec;
    const batchSize = head.kind === 'source' ? head.batchSize : 0;
    const limits = head.kind === 'source' && head.reader.limits ? await head.reader.limits(ctx.io, ref.index, stage.parallelism, s.offset) : undefined;
    // Backpressure: while downstream is full, wait (bounded) before the next poll; a poll
    // that still has no permit reads nothing and simply re-polls.
    let max = await flow.permit(topology, stage.id, batchSize);
    for (let waited = 0, pause = 20; max === 0 && waited < flow.maxPollWaitMs; waited += pause, pause *= 2) {
      await ports.clock.sleep(pause);
      max = await flow.permit(topology, stage.id, batchSize);
    }
    const self = { op: ref.stage, subtask: ref.index };
    const body = envelopes.poll({ job: topology.job, gen, from: self, to: self }, { round: s.round, at: ports.clock.now(), max, limits });
    messages.push({ queue: s.queue, message: { group: s.group, dedupId: s.dedupId, body } });
  }
  if (messages.length > 0) await sendInOrder(ports.queue, ports.clock, messages, sender);

  for (const ack of effects.acks) {
    const outcome = await ports.manifest.ack(topology.job, ack.checkpoint, subtaskKey(ref), { ...ack.info, asyncMs }, ports.clock.now());
    // A duplicate that finds the checkpoint completed but not notified is our own completing
    // ack whose response was lost: notify as the completing ack would have.
    const completedByUs = outcome.kind === 'completed' || (outcome.kind === 'duplicate' && outcome.record.status === 'COMPLETED' && !outcome.record.notified);
    if (completedByUs) {
      // Low-latency notification; the coordinator sends it again if this invocation dies here.
      await sendCommits(ports, topology, gen, ack.checkpoint, endsJob(outcome.record));
      await ports.manifest.mark(topology.job, ack.checkpoint, 'notified');
    }
  }

  if (effects.sourceFinished || effects.activity) {
    const key = subtaskKey(ref);
    await updateJob(ports.manifest, topology.job, (job) => {
      if (job.gen !== gen) return null;
      const finished = effects.sourceFinished && !job.sourcesFinished.includes(key);
      if (!finished && !effects.activity) return null;
      return {
        ...job,
        sourcesFinished: finished ? [...job.sourcesFinished, key] : job.sourcesFinished,
        activity: job.activity + (effects.activity ? 1 : 0),
      };
    });
  }
}

/**
 * Dead letters of skipped records, put-if-absent; only the invocation that creates one
 * counts it on the job item, so replays never count a record twice. (One that dies between
 * the two leaves the object uncounted: the objects are the record, the count a summary.)
 */
async function writeDeadLetters(ports: Ports, job: string, letters: EffectLog['deadLetters']): Promise<void> {
  if (letters.length === 0) return;
  const created = await Promise.all(letters.map((d) => ports.blobs.put(d.key, d.body, { ifAbsent: true })));
  const counts: Record<string, number> = {};
  letters.forEach((d, i) => {
    if (created[i]) counts[d.reason] = (counts[d.reason] ?? 0) + 1;
  });
  if (Object.keys(counts).length === 0) return;
  await updateJob(ports.manifest, job, (j) => {
    const deadLetters = { ...j.deadLetters };
    for (const [reason, n] of Object.entries(counts)) deadLetters[reason] = (deadLetters[reason] ?? 0) + n;
    return { ...j, deadLetters };
  });
}
