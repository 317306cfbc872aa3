/**
 * What a source's reader throws: its own code (a generator's `make`, a custom reader, a
 * timestamp function) is a UserFunctionError of the source with the position it read from,
 * and fails over at once; what storage throws keeps its own classification.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job, logSource, s3Source } from '../../lib/api/index.js';
import { AwsRequestError } from '../../lib/adapters/aws/errors.js';
import { TransientStorageError } from '../../lib/core/errors.js';
import type { SourceReader } from '../../lib/core/graph.js';
import { memoryWorld, type World } from '../support/memory-world.js';

async function failed(world: World) {
  for (let i = 0; i < 300 && (await world.job())!.status === 'RUNNING'; i++) await world.round();
  return (await world.job())!;
}

const noRestart = { parallelism: 1, restartStrategy: { type: 'none' } } as const;

describe("a source's own function that throws", () => {
  it.each(['fail', 'dead-letter'] as const)('fails over naming the source, its subtask and the position (onUserError %s)', async (onUserError) => {
    const j = job(`make-throws-${onUserError}`, { ...noRestart, onUserError });
    const make = (i: number) => {
      if (i === 5) throw new RangeError(`no record ${i}`);
      return i;
    };
    j.source('src', generator({ count: 20, batchSize: 2, make })).map('double', (i) => i * 2).sink('out', collect());
    const world = await memoryWorld(j.build());
    const failure = await failed(world);
    expect(failure.status).toBe('FAILED');
    expect(failure.lastFailure).toMatchObject({
      code: 'USER_FUNCTION',
      message: 'operator src threw: RangeError: no record 5 (source position 4)', // the read from offset 4 made records 4 and 5
      operator: 'src',
      subtask: 'src/0',
      input: 'source position 4',
    });
    expect(await world.memory.blobs.list(`jobs/make-throws-${onUserError}/dead-letters/`)).toEqual([]);
  });

  it("in a custom reader: the position is the reader's offset as JSON", async () => {
    const reader: SourceReader = {
      kind: 'custom',
      start: () => ({ page: 0, row: 0 }),
      read: (_s, _p, offset) => {
        const { page } = offset as { page: number };
        if (page === 2) throw new Error('page 2 is corrupt');
        return { values: [page], next: { page: page + 1, row: 0 }, finished: false };
      },
    };
    const j = job('custom-reader', noRestart);
    j.source('pages', { reader, batchSize: 1 }).sink('out', collect());
    const failure = (await failed(await memoryWorld(j.build()))).lastFailure!;
    expect(failure).toMatchObject({ code: 'USER_FUNCTION', operator: 'pages', subtask: 'pages/0', input: 'source position {"page":2,"row":0}' });
    expect(failure.message).toBe('operator pages threw: page 2 is corrupt (source position {"page":2,"row":0})');

  });
});

describe('a storage error in a read', () => {
  it('that is transient stays retryable: the poll is redelivered and the job finishes', async () => {
    const j = job('log-transient', noRestart);
    j.source('src', logSource<{ n: number }>({ log: 'events', partitions: 1, bounded: true })).map('n', (r) => r.n).sink('out', collect());
    const world = await memoryWorld(j.build(), {
      prepare: async (memory) => void (await memory.logs.append('log-transient', 'events', 0, ['{"n":1}', '{"n":2}'])),
    });
    const read = world.memory.logs.read.bind(world.memory.logs);
    let failures = 2; // fewer than maxReceiveCount (3)
    world.memory.logs.read = async (...args) => {
      if (failures-- > 0) throw new TransientStorageError('dynamodb Query');
      return read(...args);
    };
    await world.runToEnd();
    expect((await world.committed<number>('out')).sort()).toEqual([1, 2]);
    expect(await world.job()).toMatchObject({ status: 'FINISHED', restarts: 0 });
    expect((await world.job())!.lastFailure ?? null).toBeNull();
  });

  it("that an adapter does not classify is not the source's error: retried, then dead-lettered", async () => {
    const j = job('s3-denied', noRestart);
    j.source('src', s3Source<{ n: number }>({ prefix: 'in/' })).sink('out', collect());
    const world = await memoryWorld(j.build(), {
      prepare: async (memory) => void (await memory.blobs.put('jobs/s3-denied/in/1.ndjson', '{"n":1}\n')),
    });
    const get = world.memory.blobs.get.bind(world.memory.blobs);
    world.memory.blobs.get = async (key) => {
      if (key.includes('/in/')) throw new AwsRequestError('s3', 'GetObject', 'AccessDenied', 403, { cause: new Error('Access Denied') });
      return get(key);
    };
    const failure = (await failed(world)).lastFailure!;
    expect(failure.code).toBe('DEAD_LETTERED');
    expect(failure).toMatchObject({ operator: 'src', subtask: 'src/0' });
    expect(failure.input).toMatch(/^poll envelope/);
  });
});
