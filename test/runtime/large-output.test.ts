/** Outputs larger than JavaScript's argument limit (~120k) are read and verified whole. */
import { describe, expect, it } from 'vitest';
import { collect, generator, job } from '../../lib/api/index.js';
import { verifyRun } from '../../local/verify.js';
import { memoryWorld } from '../support/memory-world.js';

describe('a large committed output', () => {
  it('is read back and compared with the sequential evaluation without blowing the stack', async () => {
    const j = job('big', { checkpoints: { interval: null } });
    j.source('src', generator({ count: 200_000, batchSize: 50_000, make: (i) => i })).sink('out', collect());
    const world = await memoryWorld(j.build());
    await world.runToEnd();
    const check = await verifyRun(world.memory, world.graph, undefined);
    expect(check).toEqual({ ok: true, verdict: 'ok', summary: '200000 results, 200000 records', differences: [] });
  });
});
