/**
 * The benchmarks' job: three stages — events (generated) + enrich, keyBy user → rolling
 * totals, and a sink at parallelism 1 — so records cross two queues.
 */
import { collect, generator, job } from '../lib/api/index.js';
import type { JobGraph } from '../lib/core/graph.js';

export interface BenchEvent {
  readonly user: string;
  readonly amount: number;
  readonly ts: number;
}

export function benchPipeline(options: { name: string; records: number; batchSize: number; users: number; interval: number | null }): JobGraph {
  const j = job(options.name, { parallelism: 2, checkpoints: { interval: options.interval, timeout: 60_000, tolerableFailedCheckpoints: 3 } });
  j.source('events', generator({ count: options.records, batchSize: options.batchSize, make: (i): BenchEvent => benchEvent(i, options.users) }))
    .map('enrich', (e) => ({ user: e.user, cents: e.amount * 100 }))
    .keyBy((e) => e.user)
    .aggregate('totals', {
      create: () => ({ n: 0, sum: 0 }),
      add: (a: { n: number; sum: number }, e) => ({ n: a.n + 1, sum: a.sum + e.cents }),
      result: (a, user) => ({ user, n: a.n, sum: a.sum }),
    })
    .sink('out', collect(), { parallelism: 1 });
  return j.build();
}

export const benchEvent = (i: number, users: number): BenchEvent => ({ user: `user-${i % users}`, amount: (i * 7919) % 1000, ts: 1_700_000_000_000 + i });
