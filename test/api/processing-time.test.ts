/**
 * Processing-time timers (Flink's TimerService, processing time) on recorded processing time:
 * a source's poll time and each checkpoint's trigger time ride on what subtasks send. The
 * boundary (a timer fires once processing time reaches its time, never before, never in the
 * call that set it), firing with no record flowing (barriers carry the time), the end of
 * input, `ctx.timeDomain`, and a restore at another parallelism with timers pending.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, logSource, session, tumbling, valueState, type TimerService } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import type { JobName } from '../../lib/core/ids.js';
import { sourceIo } from '../../lib/runtime/source-io.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Tick {
  readonly i: number;
  readonly key: string;
}
interface Fired {
  readonly key: string;
  readonly at: number;
  readonly now: number;
  readonly domain: string | undefined;
  readonly ts: number | undefined;
  readonly n: number;
}

const DELAY = 1000;

/** Each record counts itself and sets a processing-time timer DELAY after the current time; the timer says when it fired. */
function delayed(name: string, source: 'generator' | 'log', count: number, interval: number) {
  const j = job(name, { parallelism: 2, checkpoints: { interval } });
  const input =
    source === 'generator'
      ? j.source('src', generator({ count, batchSize: 1, make: (i): Tick => ({ i, key: `k${i % 3}` }) }), { parallelism: 1 })
      : j.source('src', logSource<Tick>({ log: 'ticks', partitions: 1, batchSize: 1 }), { parallelism: 1 });
  input
    .keyBy((t) => t.key)
    .process('delayed', {
      state: { n: valueState<number>() },
      processElement(t, ctx) {
        ctx.state.n.update((ctx.state.n.value() ?? 0) + 1);
        ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + DELAY);
      },
      onTimer(at, ctx) {
        const fired: Fired = { key: ctx.key, at, now: ctx.timerService.currentProcessingTime(), domain: ctx.timeDomain, ts: ctx.timestamp, n: ctx.state.n.value() ?? 0 };
        ctx.emit(fired);
      },
    })
    .sink('out', collect());
  return j.build();
}

describe('processing-time timers', () => {
  it('fire once recorded processing time reaches them, never before, with no timestamp; the rest at the end of input', async () => {
    const graph = delayed('pt-boundary', 'generator', 30, 300);
    const world = await memoryWorld(graph);
    await world.runToEnd();
    const fired = await world.committed<Fired>('out');
    // One timer per key and time: records of a key in the same poll share one.
    expect(fired.length).toBeGreaterThan(3);
    for (const f of fired) {
      expect(f.domain).toBe('processing-time');
      expect(f.ts).toBeUndefined();
    }
    // Fired by processing time passing (at or after their time), the last ones by the end of
    // input (processing time then is still what was last recorded: before them).
    const early = fired.filter((f) => f.now >= f.at);
    expect(early.length).toBeGreaterThan(0);
    expect(early.some((f) => f.n < 10)).toBe(true);
    for (const f of fired.filter((x) => x.now < x.at)) expect(f.n).toBe(10);
    // Every key's last timer sees its whole count.
    const last = (key: string) => Math.max(...fired.filter((f) => f.key === key).map((f) => f.n));
    expect(['k0', 'k1', 'k2'].map(last)).toEqual([10, 10, 10]);
  });

  it('fire with no record flowing: each checkpoint’s barriers carry its trigger time', async () => {
    const graph = delayed('pt-idle', 'log', 0, 200);
    const world = await memoryWorld(graph, {
      prepare: (memory) => memory.logs.append('pt-idle', 'ticks', 0, Array.from({ length: 6 }, (_, i) => JSON.stringify({ i, key: `k${i % 3}` }))).then(() => {}),
    });
    // An unbounded source: the input never ends, so only processing time can fire the timers.
    let fired: Fired[] = [];
    for (let round = 0; round < 60 && fired.length < 3; round++) {
      await world.round();
      fired = await world.committed<Fired>('out');
    }
    expect(new Set(fired.map((f) => f.key))).toEqual(new Set(['k0', 'k1', 'k2']));
    for (const f of fired) expect(f.now).toBeGreaterThanOrEqual(f.at);
    expect((await world.job())?.status).toBe('RUNNING');
  });

  it('a timer at or before the current processing time fires at its next advance, not within the call that set it', async () => {
    const j = job('pt-past', { parallelism: 1, checkpoints: { interval: 300 } });
    j.source('src', logSource<Tick>({ log: 'ticks', partitions: 1, batchSize: 2 }))
      .keyBy((t) => t.key)
      .process('past', {
        state: {},
        processElement(t, ctx) {
          const now = ctx.timerService.currentProcessingTime();
          ctx.timerService.registerProcessingTimeTimer(now);
          ctx.emit({ record: t.i, now });
        },
        onTimer(at, ctx) {
          ctx.emit({ timer: at, now: ctx.timerService.currentProcessingTime() });
        },
      })
      .sink('out', collect());
    const ticks = (from: number) => [from, from + 1].map((i) => JSON.stringify({ i, key: 'k' }));
    const world = await memoryWorld(j.build(), { prepare: (memory) => memory.logs.append('pt-past', 'ticks', 0, ticks(0)).then(() => {}) });
    type Out = { record?: number; timer?: number; now: number };
    let out: Out[] = [];
    for (let round = 0; round < 60 && out.length < 6; round++) {
      if (round === 10) await world.memory.logs.append('pt-past', 'ticks', 0, ticks(2));
      await world.round();
      out = await world.committed<Out>('out');
    }
    // Each timer was set at the time of its records' call and fired at a later one.
    const timers = out.filter((o) => o.timer !== undefined);
    expect(timers).toHaveLength(2);
    for (const t of timers) expect(t.now).toBeGreaterThan(t.timer!);
    expect(out.map((o) => (o.record !== undefined ? `r${o.record}` : 't'))).toEqual(['r0', 'r1', 't', 'r2', 'r3', 't']);
  });

  it('restored at another parallelism with timers pending, every record is counted and every key’s timers fire once', async () => {
    const graph = delayed('pt-restore', 'generator', 90, 300);
    const world = await memoryWorld(graph);
    for (let i = 0; i < 20; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { delayed: 3 } });
    await world.runToEnd();
    const fired = await world.committed<Fired>('out');
    const last = (key: string) => Math.max(...fired.filter((f) => f.key === key).map((f) => f.n));
    expect(['k0', 'k1', 'k2'].map(last)).toEqual([30, 30, 30]);
    // A timer is one per key and time: none fired twice.
    expect(new Set(fired.map((f) => `${f.key}@${f.at}`)).size).toBe(fired.length);
    // The evaluation has no processing time: every timer fires at its end, one per key there.
    const evaluated = (await evaluateSequentially(graph, sourceIo(world.memory, 'pt-restore' as JobName))).sinks.get('out') as Fired[];
    expect(sorted(evaluated.map((f) => ({ key: f.key, n: f.n, domain: f.domain })))).toEqual(sorted(['k0', 'k1', 'k2'].map((key) => ({ key, n: 30, domain: 'processing-time' }))));
  });

  it('state with a time-to-live in processing time is gone once recorded processing time passes its write plus the ttl', async () => {
    const j = job('pt-ttl', { parallelism: 1, checkpoints: { interval: 300 } });
    j.source('src', logSource<Tick>({ log: 'ticks', partitions: 1 }))
      .keyBy((t) => t.key)
      .process('remember', {
        state: { first: valueState<number>({ ttl: { processingTime: 2000 } }) },
        processElement(t, ctx) {
          ctx.emit({ i: t.i, seen: ctx.state.first.value() ?? null, now: ctx.timerService.currentProcessingTime() });
          if (t.i === 0) ctx.state.first.update(t.i);
        },
      })
      .sink('out', collect());
    const tick = (i: number) => [JSON.stringify({ i, key: 'k' })];
    const world = await memoryWorld(j.build(), { prepare: (memory) => memory.logs.append('pt-ttl', 'ticks', 0, tick(0)).then(() => {}) });
    type Out = { i: number; seen: number | null; now: number };
    let out: Out[] = [];
    for (let round = 0; round < 80 && out.length < 3; round++) {
      if (round === 3) await world.memory.logs.append('pt-ttl', 'ticks', 0, tick(1));
      if (round === 25) await world.memory.logs.append('pt-ttl', 'ticks', 0, tick(2));
      await world.round();
      out = await world.committed<Out>('out');
    }
    const [first, second, third] = [...out].sort((a, b) => a.i - b.i);
    expect(second!.now - first!.now).toBeLessThan(2000);
    expect(second!.seen).toBe(0);
    expect(third!.now - first!.now).toBeGreaterThanOrEqual(2000);
    expect(third!.seen).toBeNull();
    const keyed = () => job('bad').source('src', generator({ count: 1, make: (i) => i })).keyBy((i) => i);
    expect(() => keyed().process('p', { state: { v: valueState({ ttl: { eventTime: 5, processingTime: 5 } as never }) }, processElement() {} })).toThrow(/takes eventTime or processingTime, not both/);
    expect(() => keyed().process('p', { state: { v: valueState({ ttl: { processingTime: 0 } }) }, processElement() {} })).toThrow(/ttl.processingTime: must be a whole number of ms from 1/);
  });

  it('early firings in processing time fire each key’s open windows, keeping them, as recorded processing time passes multiples of the period', async () => {
    const j = job('pt-early', { parallelism: 1, checkpoints: { interval: 300 } });
    j.source('src', logSource<Tick>({ log: 'ticks', partitions: 1, timestamp: (t) => t.i }), { watermarks: { outOfOrderness: 0 } })
      .keyBy((t) => t.key)
      .window(session(1_000_000), { earlyFiringEvery: 500, earlyFiringIn: 'processing-time' })
      .aggregate('count', { create: () => 0, add: (n: number) => n + 1, merge: (a: number, b: number) => a + b, result: (n, key) => ({ key, n }) })
      .sink('out', collect());
    const world = await memoryWorld(j.build());
    let out: { key: string; n: number }[] = [];
    for (let round = 0; round < 60; round++) {
      if (round % 5 === 0 && round < 40) await world.memory.logs.append('pt-early', 'ticks', 0, [JSON.stringify({ i: round, key: 'k' })]);
      await world.round();
      out = await world.committed('out');
    }
    // The session never closes (the watermark stays inside it): every result is an early one.
    const counts = out.map((o) => o.n);
    expect(counts.length).toBeGreaterThan(3);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts[counts.length - 1]).toBe(8);
    expect(counts.filter((n) => n === 8).length).toBeGreaterThan(1);
  });

  it('early firings in processing time need a period; the evaluation, in which no processing time passes, has none', async () => {
    const keyed = () => job('bad-early').source('src', generator({ count: 1, make: (i) => i, timestamp: (i) => i }), { watermarks: { outOfOrderness: 0 } }).keyBy((i) => i);
    expect(() => keyed().window(tumbling(100), { earlyFiringIn: 'processing-time' })).toThrow(/window.earlyFiringIn: needs earlyFiringEvery/);
    expect(() => keyed().window(tumbling(100), { earlyFiringEvery: 10, earlyFiringIn: 'wall-clock' as never })).toThrow(/window.earlyFiringIn: must be 'event-time' or 'processing-time'/);
    const j = job('eval-early', { parallelism: 1 });
    j.source('src', generator({ count: 30, batchSize: 1, make: (i) => i, timestamp: (i) => i * 10 }), { watermarks: { outOfOrderness: 0 } })
      .keyBy(() => 'k')
      .window(tumbling(100), { earlyFiringEvery: 1, earlyFiringIn: 'processing-time' })
      .aggregate('count', { create: () => 0, add: (n: number) => n + 1, result: (n) => n })
      .sink('out', collect());
    expect((await evaluateSequentially(j.build())).sinks.get('out')).toEqual([10, 10, 10]);
  });

  it('functions on streams not keyed have no processing-time timers', async () => {
    const j = job('pt-nokey', { parallelism: 1 });
    j.source('src', generator({ count: 1, make: (i) => i }))
      // Not in its context's type: a function reaching for it anyway is told why.
      .process('p', { state: {}, processElement: (_v, ctx) => (ctx as unknown as { timerService: TimerService }).timerService.registerProcessingTimeTimer(5) })
      .sink('out', collect());
    await expect(evaluateSequentially(j.build())).rejects.toThrow(/timers need a key/);
  });
});
