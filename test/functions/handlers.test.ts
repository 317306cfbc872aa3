/**
 * The Lambda handlers with real SQS events: messages received from the emulator's queues,
 * wrapped the way Lambda wraps them, handed to the functions `functions/` exports.
 */
import { describe, expect, it } from 'vitest';
import { createCoordinatorHandler } from '../../functions/coordinator.js';
import { createOperatorHandler } from '../../functions/operator.js';
import { createRecoveryHandler } from '../../functions/recovery.js';
import { collect, generator, job } from '../../lib/api/index.js';
import { parseTimerMessage } from '../../lib/core/wire/queue-bodies.js';
import { RecoveryManager } from '../../lib/runtime/recovery-manager.js';
import { scheduledEvent, sqsEvent } from '../../local/lambda-events.js';
import { emulatorJob, uniqueJobName } from '../support/emulator-world.js';

function counting(name: string) {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 1000 } });
  j.source('src', generator({ count: 40, batchSize: 10, make: (i) => ({ key: `k${i % 5}`, i }) }), { parallelism: 2 })
    .keyBy((e) => e.key)
    .aggregate('count', { create: () => 0, add: (n: number) => n + 1, result: (n, key) => ({ key, n }) })
    .sink('out', collect());
  return j.build();
}

async function receiveAll(ports: Awaited<ReturnType<typeof emulatorJob>>['ports'], queue: string) {
  const got = [];
  for (let i = 0; i < 5; i++) {
    const batch = await ports.queue.receive(queue, { max: 10, visibilityTimeoutMs: 30_000 });
    got.push(...batch);
    if (batch.length === 0) break;
  }
  return got;
}

describe('Lambda handlers on the emulator', () => {
  it('the operator handler takes an SQS event and forwards records downstream', async () => {
    const w = await emulatorJob(counting(uniqueJobName('op')));
    await new RecoveryManager(w.graph, w.ports).start();
    const [src, count] = w.topology.stages;
    const handler = createOperatorHandler(w.graph, { ports: w.ports, env: { TIDEMARK_STAGE: 'src' } });
    const polls = await receiveAll(w.ports, src!.queue);
    expect(polls.map((m) => m.group).sort()).toEqual(['0', '1']);
    const response = await handler(sqsEvent(src!.queue, polls, Date.now()));
    expect(response).toEqual({ batchItemFailures: [] });
    const downstream = await receiveAll(w.ports, count!.queue);
    const records = downstream.map((m) => JSON.parse(m.body) as { kind: string; recs?: unknown[] }).filter((e) => e.kind === 'records');
    expect(records.reduce((n, e) => n + e.recs!.length, 0)).toBe(20);
  });

  it('reports a failed message group as partial batch failures and lets the other group through', async () => {
    const w = await emulatorJob(counting(uniqueJobName('pb')));
    await new RecoveryManager(w.graph, w.ports).start();
    const src = w.topology.stages[0]!;
    const polls = await receiveAll(w.ports, src.queue);
    // Group 0's poll is replaced by an envelope from a generation that is not restored yet.
    const broken = polls.map((m) => (m.group === '0' ? { ...m, body: m.body.replace('"gen":1', '"gen":7') } : m));
    const handler = createOperatorHandler(w.graph, { ports: w.ports, env: { TIDEMARK_STAGE: 'src' } });
    const response = await handler(sqsEvent(src.queue, broken, Date.now()));
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: polls.find((m) => m.group === '0')!.messageId }]);
  });

  it('dead-letters malformed bodies with their reason and the recovery handler counts them', async () => {
    const w = await emulatorJob(counting(uniqueJobName('dl')));
    await new RecoveryManager(w.graph, w.ports).start();
    const count = w.topology.stages[1]!;
    const oversize = JSON.stringify({ v: 1, job: w.graph.name, gen: 1, kind: 'records', from: { op: 'src', subtask: 0 }, to: { op: 'count', subtask: 0 }, seq: 1, recs: ['x'.repeat(5000)] });
    const junk = ['not json', JSON.stringify({ v: 9 }), JSON.stringify({ v: 1, job: w.graph.name, gen: 1, kind: 'records', from: { op: 'src', subtask: 0 }, to: { op: 'ghost', subtask: 0 }, seq: 1, recs: [] }), oversize];
    await w.ports.queue.sendBatch(count.queue, junk.map((body, i) => ({ group: '0', body, dedupId: `junk-${i}` })));
    const messages = await receiveAll(w.ports, count.queue);
    // A deployment may cap message size below SQS's 1 MiB; here 4 KiB, so the 5 KB envelope is oversize.
    const handler = createOperatorHandler(w.graph, { ports: w.ports, env: { TIDEMARK_STAGE: 'count' }, runtime: { maxMessageBytes: 4096 } });
    expect(await handler(sqsEvent(count.queue, messages, Date.now()))).toEqual({ batchItemFailures: [] });
    const dead = await receiveAll(w.ports, count.deadLetterQueue);
    expect(dead.map((m) => (JSON.parse(m.body) as { deadLetter: { reason: string } }).deadLetter.reason).sort()).toEqual(['not-json', 'oversize', 'unknown-operator', 'wrong-version']);
    const recovery = createRecoveryHandler(w.graph, { ports: w.ports, env: {} });
    expect(await recovery(sqsEvent(count.deadLetterQueue, dead, Date.now()))).toEqual({ batchItemFailures: [] });
    expect((await w.ports.manifest.getJob(w.graph.name))!.deadLetters).toEqual({ 'not-json': 1, 'wrong-version': 1, 'unknown-operator': 1, oversize: 1 });
  });

  it('the coordinator keeps one timer chain: the heartbeat arms it, stale tokens are dropped', async () => {
    const w = await emulatorJob(counting(uniqueJobName('co')));
    await new RecoveryManager(w.graph, w.ports).start();
    const coordinator = createCoordinatorHandler(w.graph, { ports: w.ports, env: {} });
    await coordinator(scheduledEvent('heartbeat', Date.now()));
    const timerQueue = w.topology.resources.timerQueue;
    let timers: Awaited<ReturnType<typeof receiveAll>> = [];
    for (let i = 0; i < 20 && timers.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      timers = await receiveAll(w.ports, timerQueue);
    }
    expect(timers.map((m) => parseTimerMessage(m.body, w.graph.name)?.token)).toEqual([1]);
    expect((await w.ports.manifest.getJob(w.graph.name))!.timer.token).toBe(1);
    const stale = { ...timers[0]!, body: JSON.stringify({ job: w.graph.name, token: 0 }) };
    await coordinator(sqsEvent(timerQueue, [stale], Date.now()));
    expect((await w.ports.manifest.getJob(w.graph.name))!.timer.token).toBe(1);
    await coordinator(sqsEvent(timerQueue, timers, Date.now()));
    expect((await w.ports.manifest.getJob(w.graph.name))!.timer.token).toBe(2);
  });

  it('a deployed job is started by the first heartbeat, and aborted checkpoints are published as a metric', async () => {
    const w = await emulatorJob(counting(uniqueJobName('st')));
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      const coordinator = createCoordinatorHandler(w.graph, { ports: w.ports, env: {} });
      await coordinator(scheduledEvent('heartbeat', Date.now()));
      const job = (await w.ports.manifest.getJob(w.graph.name))!;
      expect(job).toMatchObject({ status: 'RUNNING', gen: 1 });
      // A pending checkpoint older than its timeout: the next heartbeat aborts it and says so.
      const { newCheckpointRecord } = await import('../../lib/core/manifest.js');
      const stale = newCheckpointRecord({ id: 1 as never, gen: job.gen, stages: {}, now: Date.now() - 11 * 60_000, savepoint: null, activity: 0 });
      await w.ports.manifest.createCheckpoint(w.graph.name, { ...stale, triggersSent: true });
      await coordinator(scheduledEvent('heartbeat', Date.now()));
    } finally {
      process.stdout.write = write;
    }
    const metric = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((m) => m.FailedCheckpoints === 1);
    expect(metric).toMatchObject({ Job: w.graph.name, checkpoint: 1, reason: 'CHECKPOINT_EXPIRED' });
    expect((metric as { _aws: { CloudWatchMetrics: { Namespace: string }[] } })._aws.CloudWatchMetrics[0]!.Namespace).toBe('Tidemark');
  });
});
