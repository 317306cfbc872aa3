/**
 * Streams are plain values: a pipeline can be built in an async function and returned
 * from it. A `then` method anywhere on them would make `await` call it instead.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, tumbling } from '../../lib/api/index.js';

const returned = async <T>(value: T): Promise<T> => (async () => value)();

describe('a stream returned from an async function', () => {
  it('is the stream itself, at every step of the pipeline', async () => {
    const j = job('awaited');
    const source = j.source('src', generator({ count: 10, make: (i) => ({ k: i % 2, v: i }), timestamp: (i) => i }), { watermarks: { outOfOrderness: 0 } });
    const keyed = source.keyBy((e) => e.k);
    const windowed = keyed.window(tumbling(5), { late: 'side-output' });
    const result = windowed.reduce('sum', (a, b) => ({ k: a.k, v: a.v + b.v }));
    for (const stream of [source, keyed, windowed, result, result.lateRecords()]) {
      expect(await returned(stream)).toBe(stream);
    }
  });

  it('can be built asynchronously and still extended into a valid job', async () => {
    const j = job('awaited-build');
    const build = async () => j.source('src', generator({ count: 10, make: (i) => i })).map('double', (n) => n * 2);
    (await build()).sink('out', collect());
    expect(j.build().operators.map((o) => o.name)).toEqual(['src', 'double', 'out']);
  });
});
