/**
 * Source idleness: a source subtask with nothing to read marks itself idle after the
 * idleness timeout, and downstream leaves it out of the watermark minimum — otherwise one
 * empty partition would hold every window back forever.
 */
import { describe, expect, it } from 'vitest';
import { collect, job, logSource, tumbling } from '../../lib/api/index.js';
import { memoryWorld } from '../support/memory-world.js';

function windowedLog(idleness?: number) {
  const j = job('idle', { parallelism: 2, checkpoints: { interval: 1000 } });
  j.source('events', logSource<{ k: string; t: number }>({ log: 'events', partitions: 2, batchSize: 10, timestamp: (e) => e.t }), {
    watermarks: { outOfOrderness: 0, ...(idleness ? { idleness } : {}) },
  })
    .keyBy((e) => e.k)
    .window(tumbling(100))
    .aggregate('count', { create: () => 0, add: (n: number) => n + 1, result: (n, k, w) => `${k}@${w.start}=${n}` })
    .sink('out', collect());
  return j.build();
}

async function run(idleness?: number) {
  const world = await memoryWorld(windowedLog(idleness), {
    // Only partition 0 gets events: subtask 1 (partition 1) has nothing, ever.
    prepare: (memory) => memory.logs.append('idle', 'events', 0, Array.from({ length: 30 }, (_, i) => JSON.stringify({ k: 'a', t: i * 20 }))).then(() => undefined),
  });
  for (let i = 0; i < 60; i++) await world.round({ advanceMs: 100 });
  return world.committed<string>('out');
}

describe('source idleness', () => {
  it('without it an empty source subtask holds the watermark back: no window fires', async () => {
    expect(await run()).toEqual([]);
  });

  it('with it the idle subtask is left out and windows fire on the other one’s watermark', async () => {
    const fired = await run(500);
    expect(fired.slice(0, 3)).toEqual(['a@0=5', 'a@100=5', 'a@200=5']);
  });
});
