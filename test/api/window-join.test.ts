/**
 * The window join (Flink's join … where … equalTo … window … apply): in tumbling, sliding and
 * session windows, exactly the pairs of equal keys in one window, each once per window they
 * share, at the window's last time — checked against the definition — and the engine,
 * restored at another parallelism with windows open, committing the same pairs.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, session, sliding, tumbling, type Window } from '../../lib/api/index.js';
import { evaluateSequentially } from '../../lib/api/evaluate.js';
import type { JobGraph } from '../../lib/core/graph.js';
import type { WindowAssigner } from '../../lib/core/windows.js';
import { memoryWorld, sorted } from '../support/memory-world.js';

interface Click {
  readonly id: string;
  readonly user: number;
  readonly ts: number;
}
interface Pair {
  readonly l: string;
  readonly r: string;
  readonly window: string;
}

// Left every 30 ms, right every 45 ms, two users; both in time order.
const lefts: Click[] = Array.from({ length: 24 }, (_, i) => ({ id: `l${i}`, user: i % 2, ts: 30 * i + (i % 3) * 40 }));
const rights: Click[] = Array.from({ length: 16 }, (_, j) => ({ id: `r${j}`, user: (j >> 1) % 2, ts: 45 * j }));

function joinJob(name: string, assigner: WindowAssigner): JobGraph {
  const j = job(name, { parallelism: 2, checkpoints: { interval: 300 } });
  const source = (records: Click[], batchSize: number) =>
    generator({ count: records.length, batchSize, make: (i) => records[i]!, timestamp: (i) => records[i]!.ts });
  const watermarks = { outOfOrderness: 100 };
  const l = j.source('lefts', source(lefts, 2), { parallelism: 1, watermarks });
  const r = j.source('rights', source(rights, 3), { parallelism: 1, watermarks });
  l.join(r)
    .where((c) => c.user)
    .equalTo((c) => c.user)
    .window(assigner)
    .apply('joined', (a, b, w: Window): Pair => ({ l: a.id, r: b.id, window: `${w.start}-${w.end}` }))
    .sink('out', collect());
  return j.build();
}

/** Windows by definition: fixed ones hold a record when start ≤ ts < end; sessions of a
 *  user's records, both sides together, split where the gap between two is ≥ the gap. */
function windowsOf(assigner: WindowAssigner, user: number): Window[] {
  const all = [...lefts, ...rights].filter((c) => c.user === user).map((c) => c.ts).sort((a, b) => a - b);
  if (assigner.kind === 'session') {
    const out: Window[] = [];
    for (const ts of all) {
      const last = out.at(-1);
      if (last && ts < last.end) out[out.length - 1] = { start: last.start, end: ts + assigner.gap };
      else out.push({ start: ts, end: ts + assigner.gap });
    }
    return out;
  }
  const slide = assigner.kind === 'tumbling' ? assigner.size : assigner.slide;
  const starts = new Set(all.flatMap((ts) => Array.from({ length: Math.ceil(assigner.size / slide) }, (_, k) => Math.floor(ts / slide) * slide - k * slide)));
  return [...starts].map((start) => ({ start, end: start + assigner.size }));
}

function definition(assigner: WindowAssigner): Pair[] {
  return [0, 1].flatMap((user) =>
    windowsOf(assigner, user).flatMap((w) => {
      const inside = (c: Click) => c.user === user && c.ts >= w.start && c.ts < w.end;
      return lefts.filter(inside).flatMap((a) => rights.filter(inside).map((b) => ({ l: a.id, r: b.id, window: `${w.start}-${w.end}` })));
    }),
  );
}

describe('window join', () => {
  it.each([
    ['tumbling', tumbling(100)],
    ['sliding', sliding(150, 50)],
    ['session', session(40)],
  ])('%s windows: exactly the pairs of equal keys in one window', async (_name, assigner) => {
    const expected = definition(assigner);
    expect(expected.length).toBeGreaterThan(5);
    const graph = joinJob(`join-${_name}`, assigner);
    expect(sorted((await evaluateSequentially(graph)).sinks.get('out')!)).toEqual(sorted(expected));
  });

  it('restored at another parallelism with windows open, the engine commits the same pairs', async () => {
    const graph = joinJob('join-rescale', session(40));
    const world = await memoryWorld(graph);
    for (let i = 0; i < 10; i++) await world.round();
    await world.recovery.restore({ request: { kind: 'latest' }, reason: 'rescale', parallelism: { joined: 3 } });
    await world.runToEnd();
    expect(sorted(await world.committed('out'))).toEqual(sorted(definition(session(40))));
  });
});
