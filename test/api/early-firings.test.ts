/**
 * Early firings of event-time windows (Flink's ContinuousEventTimeTrigger): a window also
 * fires, keeping what it holds, each time the watermark reaches start + k·every − 1 before its
 * end, then once more at its end as always. Pinned on a known input; the engine, restored at
 * another parallelism, fires what the evaluation fires; sessions and useless periods refused.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, session, sliding, tumbling, type Window } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import type { WindowAssigner } from '../../lib/core/windows.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

/** Record i at time 10·i, one per poll, no out-of-orderness: after record i the watermark is 10·i − 1. */
function counts(name: string, assigner: WindowAssigner, every: number, count = 25, keys = 1): JobGraph {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 } });
  j.source('src', generator({ count, batchSize: 1, make: (i) => i, timestamp: (i) => i * 10 }), { parallelism: 1, watermarks: { outOfOrderness: 0 } })
    .keyBy((i) => `k${i % keys}`)
    .window(assigner, { earlyFiringEvery: every })
    .aggregate('win', { create: () => 0, add: (n: number) => n + 1, result: (n, key, w: Window) => `${key}[${w.start},${w.end})=${n}` })
    .sink('out', collect());
  return j.build();
}

describe('early firings', () => {
  it('fire at start + k·every − 1 with what the window holds by then, then once more at the end', async () => {
    const out = (await evaluateSequentially(counts('early', tumbling(100), 30))).sinks.get('out')!;
    // [0,100): the watermark reaches 29 after record 3 (4 records), 59 after 6, 89 after 9; the end (99) after 10, holding 0..9.
    expect(out.filter((r) => String(r).startsWith('k0[0,100)'))).toEqual(['k0[0,100)=4', 'k0[0,100)=7', 'k0[0,100)=10', 'k0[0,100)=10']);
    // [200,300) holds 20..24 when input ends: 229 fired after record 23; the last watermark passes 259, 289 and the end at once.
    expect(out.filter((r) => String(r).startsWith('k0[200,300)'))).toEqual(['k0[200,300)=4', 'k0[200,300)=5', 'k0[200,300)=5', 'k0[200,300)=5']);
  });

  it.each([
    ['tumbling', tumbling(100), 30],
    ['sliding', sliding(120, 40), 25],
  ])('%s: restored at another parallelism, the engine fires what the evaluation fires', async (_n, assigner, every) => {
    const graph = counts(`early-${_n}`, assigner, every, 150, 4);
    const expected = (await evaluateSequentially(graph)).sinks.get('out')!;
    const world = await memoryWorld(graph);
    for (let i = 0; i < 20; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { win: 3 } });
    await world.runToEnd();
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected));
  });

  it('refuses early firings of sessions, and a period not below the window size', () => {
    const keyed = () => job('bad-early').source('src', generator({ count: 1, make: (i) => i })).keyBy((i) => i);
    expect(() => keyed().window(session(10), { earlyFiringEvery: 5 })).toThrow(ConfigError);
    expect(() => keyed().window(session(10), { earlyFiringEvery: 5 })).toThrow('window.earlyFiringEvery: is for tumbling and sliding windows');
    expect(() => keyed().window(tumbling(10), { earlyFiringEvery: 10 })).toThrow('10 is not below the window size 10');
    expect(() => keyed().window(tumbling(10), { earlyFiringEvery: 0 })).toThrow('window.earlyFiringEvery');
  });
});
