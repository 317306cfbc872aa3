import { describe, expect, it } from 'vitest';
import { collect, generator, job, valueState } from '../../lib/api/index.js';
import { ConfigError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { compileTopology } from '../../lib/core/topology.js';

const source = () => generator({ count: 10, make: (i) => ({ id: i, key: `k${i % 3}` }) });

/** Runs `define` and returns the ConfigError's field, failing if none is thrown. */
function fieldOf(define: () => unknown): string {
  try {
    define();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).field;
  }
  throw new Error('expected a ConfigError');
}

describe('job settings are validated when the job is defined', () => {
  it.each([
    ['name', () => job('Bad Name')],
    ['name', () => job('a'.repeat(31))],
    ['maxParallelism', () => job('j', { maxParallelism: 0 })],
    ['maxParallelism', () => job('j', { maxParallelism: 40_000 })],
    ['parallelism', () => job('j', { parallelism: 0 })],
    ['parallelism', () => job('j', { parallelism: 200, maxParallelism: 128 })],
    ['bufferBytes', () => job('j', { bufferBytes: 2 * 1024 * 1024 })],
    ['checkpoints.timeout', () => job('j', { checkpoints: { timeout: 0 } })],
    ['checkpoints.timeout', () => job('j', { checkpoints: { timeout: -5 } })],
    ['checkpoints.interval', () => job('j', { checkpoints: { interval: 5 } })],
    ['checkpoints.maxConcurrentCheckpoints', () => job('j', { checkpoints: { maxConcurrentCheckpoints: 0 } })],
    ['checkpoints.tolerableFailedCheckpoints', () => job('j', { checkpoints: { tolerableFailedCheckpoints: -1 } })],
    ['checkpoints.retained', () => job('j', { checkpoints: { retained: 0 } })],
    ['checkpoints.mode', () => job('j', { checkpoints: { mode: 'twice' as never } })],
    ['checkpoints.intervall', () => job('j', { checkpoints: { intervall: 10 } as never })],
    ['restartStrategy.attempts', () => job('j', { restartStrategy: { type: 'fixed-delay', attempts: -1, delay: 10 } })],
    ['restartStrategy.type', () => job('j', { restartStrategy: { type: 'sometimes' } as never })],
    ['paralelism', () => job('j', { paralelism: 2 } as never)],
    ['generator.count', () => generator({ count: -1, make: (i) => i })],
    ['generator.make', () => generator({ count: 1 } as never)],
  ])('%s', (field, define) => {
    expect(fieldOf(define)).toBe(field);
  });

  it('accepts Flink-named settings and fills Flink defaults', () => {
    const j = job('ok', { checkpoints: { interval: 1000 } });
    j.source('src', source()).sink('out', collect());
    const g = j.build();
    expect(g.checkpoints).toMatchObject({ interval: 1000, mode: 'exactly-once', maxConcurrentCheckpoints: 1, retained: 1 });
    expect(g.maxParallelism).toBe(128);
  });
});

describe('graphs are validated when the job is defined', () => {
  it('rejects a duplicate operator name, naming it', () => {
    const j = job('j');
    const s = j.source('src', source());
    expect(fieldOf(() => s.map('src', (x) => x))).toBe('operators.src');
  });

  it('rejects an operator parallelism above maxParallelism', () => {
    const j = job('j', { maxParallelism: 4 });
    expect(fieldOf(() => j.source('src', source(), { parallelism: 5 }))).toBe('operators.src.parallelism');
  });

  it('rejects invalid operator names and non-functions', () => {
    const j = job('j');
    const s = j.source('src', source());
    expect(fieldOf(() => s.map('has space', (x) => x))).toBe('operators.has space');
    expect(fieldOf(() => s.map('m', 42 as never))).toBe('operators.m.fn');
    expect(fieldOf(() => s.keyBy((x) => x.key).reduce('r', undefined as never))).toBe('operators.r.fn');
    expect(fieldOf(() => s.keyBy((x) => x.key).process('p', { state: { s: { kind: 'queue' } as never }, processElement: () => {} }))).toBe(
      'operators.p.state.s',
    );
  });

  it('rejects a stream that is not consumed and a job without a source', () => {
    const j = job('j');
    j.source('src', source()).map('dangling', (x) => x);
    expect(fieldOf(() => j.build())).toBe('operators.dangling');
    expect(fieldOf(() => job('empty').build())).toBe('operators');
  });

  it('rejects a keyed operator without keyBy (graph built by hand)', () => {
    const j = job('j');
    j.source('src', source()).keyBy((x) => x.key).reduce('r', (a) => a).sink('out', collect());
    const g = j.build();
    const broken: JobGraph = {
      ...g,
      operators: g.operators.map((o) => (o.name === 'r' ? { ...o, inputs: o.inputs.map((i) => ({ ...i, partitioning: { type: 'rebalance' } as const })) } : o)),
    };
    try {
      compileTopology(broken);
      throw new Error('expected a ConfigError');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      expect((e as ConfigError).field).toBe('operators.r');
      expect((e as Error).message).toMatch(/keyBy/);
    }
  });

  it('rejects a rescale override of an unknown or chained stage and above maxParallelism', () => {
    const j = job('j', { maxParallelism: 8 });
    j.source('src', source()).map('m', (x) => x).keyBy((x) => x.key).process('p', { state: { n: valueState<number>() }, processElement: () => {} }).sink('out', collect());
    const g = j.build();
    expect(fieldOf(() => compileTopology(g, { nope: 2 }))).toBe('parallelism.nope');
    expect(fieldOf(() => compileTopology(g, { m: 2 }))).toBe('parallelism.m');
    expect(fieldOf(() => compileTopology(g, { p: 9 }))).toBe('parallelism.p');
  });
});

describe('chaining (Flink rules)', () => {
  it('chains forward edges of equal parallelism and breaks at keyBy, rebalance and parallelism changes', () => {
    const j = job('j', { parallelism: 2 });
    j.source('src', source())
      .map('a', (x) => x)
      .filter('b', () => true)
      .keyBy((x) => x.key)
      .reduce('c', (x) => x)
      .map('d', (x) => x)
      .map('e', (x) => x, { parallelism: 3 })
      .sink('out', collect(), { parallelism: 3 });
    const t = compileTopology(j.build());
    expect(t.stages.map((s) => [s.id, s.operators.map((o) => o.name), s.parallelism])).toEqual([
      ['src', ['src', 'a', 'b'], 2],
      ['c', ['c', 'd'], 2],
      ['e', ['e', 'out'], 3],
    ]);
    expect(t.stages[1]!.keyed).toBe(true);
    expect(t.stages[2]!.inputs[0]!.partitioning.type).toBe('rebalance');
    expect(t.stages.map((s) => s.queue)).toEqual(['j-src.fifo', 'j-c.fifo', 'j-e.fifo']);
  });

  it('startNewChain breaks a chain', () => {
    const j = job('j');
    j.source('src', source()).map('a', (x) => x, { startNewChain: true }).sink('out', collect());
    expect(compileTopology(j.build()).stages.map((s) => s.id)).toEqual(['src', 'a']);
  });
});
