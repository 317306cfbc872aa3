/**
 * Event-time timers in keyed process functions (Flink's TimerService, event time): the
 * boundary (a timer fires once the watermark reaches its time, not before), deletion, timers
 * registered while timers fire, and the engine — restored at another parallelism, timers
 * pending — firing exactly what the sequential evaluation fires.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, valueState, type KeyedProcessFunction, type ValueStateDescriptor } from '../../lib/api/index.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import { ConfigError } from '../../lib/core/errors.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Tick {
  readonly i: number;
  readonly key: string;
}

type TimedFunction = KeyedProcessFunction<Tick, string, { n: ValueStateDescriptor<number> }, unknown>;

/** Record i at event time 10·i, one per poll, no out-of-orderness: after record i the watermark is 10·i − 1. */
function timed(name: string, fns: Pick<TimedFunction, 'processElement' | 'onTimer'>, count = 20) {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 } });
  j.source('src', generator({ count, batchSize: 1, make: (i): Tick => ({ i, key: `k${i % 3}` }), timestamp: (i) => i * 10 }), { parallelism: 1, watermarks: { outOfOrderness: 0 } })
    .keyBy((t) => t.key)
    .process('timed', { state: { n: valueState<number>() }, ...fns })
    .sink('out', collect());
  return j.build();
}

/** Runs the job on the engine to the end: it must commit exactly what the evaluation fired. */
async function expectEngineCommits(graph: JobGraph, fired: unknown[]): Promise<void> {
  const world = await memoryWorld(graph);
  await world.runToEnd();
  expect(sorted(await world.committed('out'))).toEqual(sorted(fired));
}

describe('event-time timers', () => {
  it('fire once the watermark reaches their time — at exactly it — and not before', async () => {
    const graph = timed('boundary', {
      // Record i registers a timer at 10·i + 9: the watermark reaches it right after record i + 1.
      processElement: (t, ctx) => ctx.timerService.registerEventTimeTimer(t.i * 10 + 9),
      onTimer: (at, ctx) => ctx.emit({ at, watermark: ctx.timerService.currentWatermark(), key: ctx.key, ts: ctx.timestamp }),
    });
    const fired = (await evaluateSequentially(graph)).sinks.get('out') as { at: number; watermark: number; key: string; ts: number }[];
    expect(fired).toHaveLength(20);
    // The last two fire at end of input (the largest watermark); the others at exactly their time.
    for (const f of fired.filter((x) => x.at < 180)) {
      expect(f.watermark).toBe(f.at);
      expect(f.ts).toBe(f.at);
    }
    expect(fired.filter((x) => x.watermark !== x.at).map((x) => x.at).sort()).toEqual([189, 199]);
    await expectEngineCommits(graph, fired);
  });

  it('a deleted timer does not fire; one timer per key and time; a timer set while timers fire, for a time reached, fires in that round', async () => {
    const graph = timed('delete', {
      processElement: (t, ctx) => {
        ctx.timerService.registerEventTimeTimer(1000);
        ctx.timerService.registerEventTimeTimer(1000); // the same timer
        ctx.timerService.registerEventTimeTimer(2000 + t.i);
        ctx.timerService.deleteEventTimeTimer(2000 + t.i);
      },
      onTimer: (at, ctx) => {
        ctx.emit({ at, key: ctx.key });
        if (at === 1000) ctx.timerService.registerEventTimeTimer(500); // already reached
      },
    }, 6);
    const fired = (await evaluateSequentially(graph)).sinks.get('out') as { at: number; key: string }[];
    expect(sorted(fired)).toEqual(sorted(['k0', 'k1', 'k2'].flatMap((key) => [{ at: 1000, key }, { at: 500, key }])));
    await expectEngineCommits(graph, fired);
  });

  it('the engine fires what the evaluation fires, with timers pending across a restore at another parallelism', async () => {
    const graph = timed('restored', {
      processElement: (t, ctx) => {
        ctx.state.n.update((ctx.state.n.value() ?? 0) + 1);
        ctx.timerService.registerEventTimeTimer(t.i * 10 + 35);
      },
      onTimer: (at, ctx) => ctx.emit({ at, key: ctx.key, n: ctx.state.n.value() }),
    }, 120);
    const world = await memoryWorld(graph);
    for (let i = 0; i < 25; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { timed: 3 } });
    await world.runToEnd();
    const expected = (await evaluateSequentially(graph)).sinks.get('out')!;
    expect(expected).toHaveLength(120);
    expect(sorted(await world.committed('out'))).toEqual(sorted(expected));
  });

  it('a timer needs a finite time, and onTimer must be a function', async () => {
    const graph = timed('nan', { processElement: (_t, ctx) => ctx.timerService.registerEventTimeTimer(Number.NaN), onTimer: () => {} }, 2);
    await expect(evaluateSequentially(graph)).rejects.toThrow('a timer needs a finite time, got NaN');
    const keyed = () => job('bad').source('src', generator({ count: 1, make: (i) => i })).keyBy((i) => i);
    expect(() => keyed().process('p', { state: {}, processElement() {}, onTimer: 5 as never })).toThrow(ConfigError);
    expect(() => keyed().process('p', { state: {}, processElement() {}, onTimer: 5 as never })).toThrow('operators.p.onTimer');
  });
});
