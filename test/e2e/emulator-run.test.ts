/**
 * End to end on the emulator: a keyed job run by the local Lambda host with invocations
 * killed at random protocol steps, one forced restore, and malformed messages thrown into an
 * operator queue. What the sink committed must equal the sequential evaluation exactly, and
 * the malformed messages must be dead-lettered and counted.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { mulberry32 } from '../../lib/core/rng.js';
import { queueDepthFlow } from '../../lib/runtime/flow-control.js';
import { readCommitted } from '../../lib/runtime/sink-reader.js';
import { LocalLambdaHost } from '../../local/lambda-host.js';
import { emulatorJob, uniqueJobName } from '../support/emulator-world.js';

const sorted = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).sort();

describe('a job on the emulator under fault injection', () => {
  it('commits exactly the sequential result despite kills, a restore and malformed messages', async () => {
    const name = uniqueJobName('e2e');
    const j = job(name, { parallelism: 2, checkpoints: { interval: 1000, timeout: 30_000, tolerableFailedCheckpoints: 5 }, restartStrategy: { type: 'fixed-delay', attempts: 20, delay: 200 } });
    // At most 600 records a second: the run lasts at least 5 s whatever the emulator's speed,
    // so the checkpoints (one a second) that the junk and the forced restore wait for come
    // while the job still runs.
    j.source('src', generator({ count: 3000, batchSize: 100, rate: 600, make: (i, r) => ({ user: `u${Math.floor(r() * 40)}`, i }) }))
      .map('tag', (e) => ({ user: e.user, odd: e.i % 2 }))
      .keyBy((e) => e.user)
      .aggregate('per-user', { create: () => 0, add: (n: number) => n + 1, result: (n, user) => ({ user, n }) })
      .sink('out', collect(), { parallelism: 1 });
    const w = await emulatorJob(j.build(), { visibilityTimeoutSeconds: 3, maxReceiveCount: 20 });
    const host = new LocalLambdaHost(w.graph, w.ports, {
      visibilityTimeoutMs: 3000,
      killRate: 0.1,
      random: mulberry32(7), // seeded: the same invocations die every run
      heartbeatMs: 1000,
      coordinator: { restoreLeaseMs: 5000 },
      runtime: { flow: queueDepthFlow(w.ports.queue, { maxDepth: 6 }) },
    });
    await host.recovery.start();
    host.start();
    let restored = false;
    let junk = false;
    const deadline = Date.now() + 150_000;
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, 200));
        const jobItem = (await w.ports.manifest.getJob(name))!;
        if (jobItem.status === 'FINISHED' || jobItem.status === 'FAILED') break;
        if (Date.now() > deadline) throw new Error(`job still ${jobItem.status} after 150 s`);
        const completed = (await w.ports.manifest.listCheckpoints(name)).filter((c) => c.status === 'COMPLETED');
        if (!junk && completed.length >= 1) {
          junk = true;
          const queue = w.topology.stages[1]!.queue;
          await w.ports.queue.sendBatch(queue, [
            { group: '0', body: '{not json', dedupId: 'junk-1' },
            { group: '1', body: JSON.stringify({ v: 2, job: name }), dedupId: 'junk-2' },
          ]);
        }
        if (!restored && completed.length >= 2) {
          restored = true;
          await host.recovery.restore({ request: { kind: 'latest' }, reason: 'test: forced restore' });
        }
      }
    } finally {
      await host.stop();
    }
    const jobItem = (await w.ports.manifest.getJob(name))!;
    expect(jobItem.status).toBe('FINISHED');
    expect(restored).toBe(true);
    expect(host.stats.kills).toBeGreaterThan(0);
    expect(jobItem.deadLetters).toEqual({ 'not-json': 1, 'wrong-version': 1 });
    const expected = (await evaluateSequentially(w.graph)).sinks.get('out')!;
    const committed = (await readCommitted(w.ports.blobs, name, 'out')).records;
    expect(committed).toHaveLength(expected.length);
    expect(sorted(committed)).toEqual(sorted(expected));
  });
});
