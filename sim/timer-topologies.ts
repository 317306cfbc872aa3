/**
 * `timers`: event-time timers in a keyed process function, and in half the runs
 * processing-time ones beside them (see `timers` below); the events are the windowed
 * topologies' (windowed-topologies.ts).
 */
import { collect, job, listState, mapState, valueState } from '../lib/api/index.js';
import { randomInt } from '../lib/core/rng.js';
import { settings, type SimTopology } from './topology-support.js';
import { outOfOrder, timedSource, watermarks } from './windowed-topologies.js';

/**
 * Event-time timers in a keyed process function: each record adds its value to its key's
 * bucket and registers a timer at the bucket's end; that timer emits the bucket's sum and
 * registers a follow-up timer 50 ms later, which counts; a small value deletes the previous
 * bucket's follow-up. Out-of-order events with late ones (their bucket's timer is already past:
 * it fires at the next watermark), one source subtask (see `windowed`), rescaled on restore.
 * In half the runs each record also waits in list state for a processing-time timer a little
 * after the current processing time, which flushes what waits; when that fires depends on the
 * run, so flushed records are compared one by one, not by the batch they left in.
 */
export function timers(): SimTopology {
  interface Fired {
    readonly key: string;
    readonly at: number;
    readonly flushed?: readonly number[];
  }
  const canonical = (records: unknown[]) =>
    (records as Fired[]).flatMap((r) => (r.flushed ? r.flushed.map((id) => `flushed ${r.key}:${id}`) : [JSON.stringify(r)]));
  return {
    name: 'timers',
    sinks: ['out'],
    rescale: [{ timed: 3 }, { timed: 1 }],
    build({ mode, random }) {
      const j = job('simtimers', { ...settings(mode, random), parallelism: 2 });
      const seed = randomInt(random, 0, 1e6);
      const events = outOfOrder(randomInt(random, 40, 120), seed, randomInt(random, 5, 15));
      const bucket = randomInt(random, 2, 6) * 100;
      const flushAfter = randomInt(random, 0, 1) === 1 ? randomInt(random, 100, 1500) : null;
      j.source('src', timedSource(events, seed, randomInt(random, 1, 4)), { parallelism: 1, watermarks })
        .keyBy((e) => e.key)
        .process('timed', {
          state: { sums: mapState<number, number>(), followUps: valueState<number>(), waiting: listState<number>() },
          processElement(e, ctx) {
            const end = Math.floor(e.ts / bucket) * bucket + bucket - 1;
            ctx.state.sums.put(end, (ctx.state.sums.get(end) ?? 0) + e.value);
            ctx.timerService.registerEventTimeTimer(end);
            if (e.value < 8) ctx.timerService.deleteEventTimeTimer(end - bucket + 50);
            if (flushAfter === null) return;
            ctx.state.waiting.add(e.id);
            ctx.timerService.registerProcessingTimeTimer(ctx.timerService.currentProcessingTime() + flushAfter);
          },
          onTimer(at, ctx) {
            if (ctx.timeDomain === 'processing-time') {
              const flushed = ctx.state.waiting.get();
              ctx.state.waiting.clear();
              if (flushed.length > 0) ctx.emit({ key: ctx.key, at: -1, flushed });
              return;
            }
            const sum = ctx.state.sums.get(at);
            if (sum !== undefined) {
              ctx.state.sums.remove(at);
              ctx.emit({ key: ctx.key, at, sum });
              ctx.timerService.registerEventTimeTimer(at + 50);
              return;
            }
            const n = (ctx.state.followUps.value() ?? 0) + 1;
            ctx.state.followUps.update(n);
            ctx.emit({ key: ctx.key, at, followUp: n });
          },
        })
        .sink('out', collect());
      return { graph: j.build() };
    },
    canonical,
    // Replays may count a value twice, never lose a timer's output.
    atLeastOnce(expected, actual) {
      const firedAt = (r: Fired) => (r.flushed ? canonical([r]) : [`${r.key}@${r.at}`]);
      const have = new Set((actual as Fired[]).flatMap(firedAt));
      return (expected as Fired[]).flatMap(firedAt).filter((r) => !have.has(r)).map((r) => `missing ${r}`);
    },
  };
}

