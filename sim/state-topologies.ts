/**
 * The simulation's topology of state with a time-to-live: `ttl`, a keyed process function
 * whose value, map and list state expire in event time, each read before it is written, so
 * every output says what was still alive. One source subtask, so the watermark at each record
 * is the same in every run and in the sequential evaluation (see windowed-topologies.ts), and
 * what expired is fixed; rescaled restores move the stamped state and its cleanup timers.
 */
import { collect, generator, job, listState, mapState, valueState } from '../lib/api/index.js';
import { randomInt } from '../lib/core/rng.js';
import { event, settings, type SimTopology } from './topology-support.js';

interface Seen {
  readonly id: number;
}

function ttl(): SimTopology {
  const json = (records: unknown[]) => records.map((r) => JSON.stringify(r));
  return {
    name: 'ttl',
    sinks: ['out'],
    rescale: [{ ttl: 3 }, { ttl: 1 }],
    build({ mode, random }) {
      const j = job('simttl', { ...settings(mode, random), parallelism: 2 });
      const count = randomInt(random, 40, 120);
      const seed = randomInt(random, 0, 1e6);
      const step = randomInt(random, 10, 50);
      const jitter = randomInt(random, 0, 40);
      const events = Array.from({ length: count }, (_, i) => ({ ...event(i, random), ts: i * step + randomInt(random, 0, jitter) }));
      const options = (updateOn: 'write' | 'read-and-write') => ({ ttl: { eventTime: randomInt(random, 1, 8) * step, updateOn } });
      j.source('src', generator({ count, seed, batchSize: randomInt(random, 1, 4), make: (i) => events[i]!, timestamp: (i) => events[i]!.ts }), {
        parallelism: 1,
        watermarks: { outOfOrderness: jitter },
      })
        .keyBy((e) => e.key)
        .process('ttl', {
          state: { last: valueState<number>(options('write')), values: mapState<number, number>(options('read-and-write')), recent: listState<number>(options('write')) },
          processElement(e, ctx) {
            const last = ctx.state.last.value() ?? null;
            const alive = ctx.state.values.keys().length;
            const recent = ctx.state.recent.get();
            ctx.state.last.update(e.id);
            ctx.state.values.put(e.value % 5, e.id);
            ctx.state.recent.add(e.id);
            ctx.emit({ id: e.id, last, alive, recent });
          },
        })
        .sink('out', collect());
      return { graph: j.build() };
    },
    canonical: json,
    // Replays write state again (so more may be alive); every record is still answered.
    atLeastOnce(expected, actual) {
      const have = new Set(actual.map((r) => (r as Seen).id));
      return expected.filter((r) => !have.has((r as Seen).id)).map((r) => `missing ${JSON.stringify(r)}`);
    },
  };
}

export const STATE_TOPOLOGIES: Record<string, SimTopology> = {
  ttl: ttl(),
};
