import { describe, expect, it } from 'vitest';
import { collect, generator, job, mapState, output, tumbling, valueState } from '../../lib/api/index.js';
import { StateCompatibilityError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { checkStateCompatibility, requireCompatible } from '../../lib/core/state-compatibility.js';
import { describeState, fnv1a } from '../../lib/core/state-descriptor.js';
import { encodeStateDescriptor, parseStateDescriptor } from '../../lib/core/wire/state-descriptor.js';

interface Event {
  key: string;
  group: string;
  i: number;
}

interface Version {
  maxParallelism?: number;
  key?: (e: Event) => string;
  /** The kind of the process function's `seen` state. */
  seen?: 'value' | 'map';
  /** Leave the `visits` operator out. */
  dropVisits?: boolean;
  /** Add a rolling count after the visits. */
  addCount?: boolean;
  /** The window's operator becomes a rolling reduce of the same name. */
  windowAsReduce?: boolean;
}

/** One job in several versions: source → keyBy → process `visits` → window `sums` → sink. */
function version(v: Version = {}): JobGraph {
  const j = job('upgrade', { parallelism: 2, ...(v.maxParallelism ? { maxParallelism: v.maxParallelism } : {}) });
  const source = j.source(
    'src',
    generator({ count: 10, make: (i): Event => ({ key: `k${i % 3}`, group: `g${i % 2}`, i }), timestamp: (i) => i * 1000 }),
    { parallelism: 1 },
  );
  const keyed = source.keyBy(v.key ?? ((e) => e.key));
  const visited = v.dropVisits
    ? keyed
    : keyed
        .process('visits', {
          state: { total: valueState<number>(), seen: v.seen === 'value' ? valueState<number>() : mapState<number, boolean>() },
          output: output<Event>(),
          processElement(e, ctx) {
            ctx.emit(e);
          },
        })
        .keyBy((e) => e.key);
  const counted = v.addCount ? visited.reduce('count', (a, b) => ({ ...a, i: a.i + b.i })).keyBy((e) => e.key) : visited;
  const summed = v.windowAsReduce
    ? counted.reduce('sums', (a, b) => ({ ...a, i: a.i + b.i }))
    : counted.window(tumbling(5000)).reduce('sums', (a, b) => ({ ...a, i: a.i + b.i }));
  summed.sink('out', collect());
  return j.build();
}

const saved = describeState(version(), 3);
const check = (next: JobGraph, allowNonRestoredState = false) => checkStateCompatibility(saved, next, 'savepoint v1', { allowNonRestoredState });

describe('state descriptor', () => {
  it('records each operator by name with its states, the key function and maxParallelism, and survives its wire format', () => {
    expect(saved.maxParallelism).toBe(128);
    expect(saved.operators.map((o) => [o.name, o.kind, o.states.map((s) => `${s.name}: ${s.kind}`)])).toEqual([
      ['src', 'source', ['offsets: source-offsets(generator)']],
      ['visits', 'process', ['total: value', 'seen: map']],
      ['sums', 'window', ['windows: window(tumbling, reduce)']],
      ['out', 'sink', ['transactions: sink-transactions(collect)']],
    ]);
    expect(saved.operators.find((o) => o.name === 'visits')!.key).toBe(`fnv1a:${fnv1a('(e) => e.key')}`);
    expect(saved.operators.find((o) => o.name === 'out')!.key).toBeNull();
    expect(parseStateDescriptor(encodeStateDescriptor(saved), 'd.json')).toEqual(saved);
    expect(() => parseStateDescriptor('{"v":2}', 'jobs/x/d.json')).toThrow('state descriptor jobs/x/d.json has an unknown format');
  });
});

describe('checkStateCompatibility', () => {
  it('passes the same job, with nothing to say', () => {
    expect(check(version())).toEqual({ notes: [], problems: [] });
  });

  it('treats a checkpoint from before descriptors as compatible', () => {
    expect(checkStateCompatibility(null, version({ maxParallelism: 64 }), 'checkpoint 4', { allowNonRestoredState: false })).toEqual({ notes: [], problems: [] });
  });

  it('lets a new operator start empty, and says so', () => {
    expect(check(version({ addCount: true }))).toEqual({
      notes: ['operator "count" is new: it starts with empty state (accumulator: reduce-accumulator)'],
      problems: [],
    });
  });

  it('refuses an operator of the savepoint that the new job lacks, naming it', () => {
    const c = check(version({ dropVisits: true }));
    expect(c.problems.map((p) => [p.kind, p.operator])).toEqual([['missing-operator', 'visits']]);
    expect(() => requireCompatible(c)).toThrow(StateCompatibilityError);
    expect(() => requireCompatible(c)).toThrow(
      'operator "visits" in savepoint v1 holds state (total: value, seen: map) that the new job has no operator for; restore with --allow-non-restored-state to drop it',
    );
  });

  it('drops that operator’s state with allowNonRestoredState, and says so', () => {
    expect(check(version({ dropVisits: true }), true)).toEqual({
      notes: ['operator "visits" of savepoint v1 is not in the new job: its state (total: value, seen: map) is dropped (--allow-non-restored-state)'],
      problems: [],
    });
  });

  it('refuses a state whose kind changed, naming the operator and the state', () => {
    const c = check(version({ seen: 'value' }));
    expect(c.problems).toEqual([
      {
        kind: 'state-kind',
        operator: 'visits',
        state: 'seen',
        message: 'operator "visits" in savepoint v1 holds state "seen" as map; the new job\'s "visits" holds it as value: a state cannot change kind across a restore',
      },
    ]);
  });

  it('refuses an operator whose kind changed', () => {
    expect(() => requireCompatible(check(version({ windowAsReduce: true })))).toThrow(
      'operator "sums" in savepoint v1 is a window holding state (windows: window(tumbling, reduce)); in the new job it is a reduce, which cannot take that state',
    );
  });

  it('refuses a changed key function, naming the operator', () => {
    const c = check(version({ key: (e) => e.group }));
    expect(c.problems.map((p) => p.message)).toEqual([
      `operator "visits" in savepoint v1 was keyed by another key function (fnv1a:${fnv1a('(e) => e.key')}, now fnv1a:${fnv1a('(e) => e.group')}): its keyed state is partitioned by that key; keep the keyBy function unchanged`,
    ]);
  });

  it('refuses a changed maxParallelism', () => {
    expect(() => requireCompatible(check(version({ maxParallelism: 256 })))).toThrow(
      'savepoint v1 was taken with maxParallelism 128 and the new job has 256: keyed state is split into maxParallelism key groups, so it must stay 128',
    );
  });

  it('names every problem in one error', () => {
    const e = (() => {
      try {
        requireCompatible(check(version({ maxParallelism: 256, seen: 'value' })));
      } catch (err) {
        return err as StateCompatibilityError;
      }
      throw new Error('no error');
    })();
    expect(e.code).toBe('STATE_COMPATIBILITY');
    expect(e.problems.map((p) => p.kind)).toEqual(['max-parallelism', 'state-kind']);
    expect(e.message).toMatch(/^2 state compatibility problems: savepoint v1 was taken with maxParallelism 128 .*; operator "visits" in savepoint v1 holds state "seen" as map/);
  });
});
