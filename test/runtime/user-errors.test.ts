/**
 * Errors that name the operator and the record: a null key, a record too big for a buffer,
 * a window's function; the failure record on the job item; the `onUserError` setting.
 */
import { describe, expect, it } from 'vitest';
import { collect, ConfigError, generator, job } from '../../lib/api/index.js';
import { preview, UserFunctionError } from '../../lib/core/errors.js';
import type { OperatorNode, WindowFunction } from '../../lib/core/graph.js';
import { generation, jobName, operatorName } from '../../lib/core/ids.js';
import { encodeKey, keyGroupOf } from '../../lib/core/keygroups.js';
import { initialJobRecord } from '../../lib/core/manifest.js';
import { MemoryManifestStore } from '../../lib/adapters/memory/memory-manifest-store.js';
import { failureOf, requestFailover } from '../../lib/runtime/failover.js';
import { keyOf } from '../../lib/runtime/keyed-state.js';
import { WindowOperator } from '../../lib/runtime/window-operator.js';
import { WorkingState } from '../../lib/runtime/working-state.js';
import { memoryWorld, type World } from '../support/memory-world.js';

async function failed(world: World) {
  for (let i = 0; i < 300 && (await world.job())!.status === 'RUNNING'; i++) await world.round();
  return (await world.job())!;
}

function wordCounts(name: string, onUserError: 'fail' | 'dead-letter') {
  const j = job(name, { parallelism: 2, restartStrategy: { type: 'none' }, onUserError });
  j.source('src', generator({ count: 40, batchSize: 10, make: (i) => ({ word: i === 17 ? null : `w${i % 5}` }) }), { parallelism: 1 })
    .keyBy((e) => e.word as string)
    .aggregate('counts', { create: () => 0, add: (n: number) => n + 1, result: (n, word) => ({ word, n }) })
    .sink('out', collect());
  return j.build();
}

describe('a keyBy that returns null', () => {
  it('fails the job with the operator and the record', async () => {
    const j = await failed(await memoryWorld(wordCounts('nullkey-fail', 'fail')));
    expect(j.status).toBe('FAILED');
    expect(j.lastFailure).toMatchObject({
      code: 'USER_FUNCTION',
      message: 'operator counts: keyBy returned null for record {"word":null}',
      operator: 'counts',
      subtask: 'src/0', // the key is computed where the record is sent from
      input: '{"word":null}',
    });
    expect(j.restarts).toBe(0);
  });

  it("with onUserError 'dead-letter' skips the record under the keyed operator's name", async () => {
    const world = await memoryWorld(wordCounts('nullkey-skip', 'dead-letter'));
    await world.runToEnd();
    expect(await world.committed('out')).toHaveLength(39);
    const keys = await world.memory.blobs.list('jobs/nullkey-skip/dead-letters/counts/');
    expect(keys).toHaveLength(1);
    const letter = JSON.parse((await world.memory.blobs.get(keys[0]!))!);
    expect(letter).toMatchObject({ operator: 'counts', subtask: 'src/0', record: { word: null } });
    expect(letter.error.message).toBe('operator counts: keyBy returned null for record {"word":null}');
  });

  it('names what the selector returned or threw', () => {
    expect(() => keyOf(() => undefined, { a: 1 }, 'op')).toThrow('operator op: keyBy returned undefined for record {"a":1}');
    expect(() => keyOf(() => Number.NaN, 1, 'op')).toThrow('operator op: keyBy returned NaN for record 1');
    expect(() => keyOf(() => ({ id: 1 }), 1, 'op')).toThrow('operator op: keyBy returned {"id":1} for record 1');
    expect(() => keyOf((v) => (v as { a: { b: 1 } }).a.b, {}, 'op')).toThrow(/^operator op: keyBy threw: TypeError: .* \(record \{\}\)$/);
  });
});

describe('a record too big for a buffer', () => {
  it('fails over naming the operator that emitted it and the record, whatever onUserError says', async () => {
    const j = job('oversize', { parallelism: 1, bufferBytes: 4096, restartStrategy: { type: 'none' }, onUserError: 'dead-letter' });
    j.source('src', generator({ count: 10, make: (i) => i }))
      .map('words', (i) => ({ id: i, text: i === 3 ? 'x'.repeat(5000) : 'short' }))
      .rebalance()
      .map('after', (r) => r, { parallelism: 1 })
      .sink('out', collect());
    const failure = (await failed(await memoryWorld(j.build()))).lastFailure!;
    expect(failure.operator).toBe('words');
    expect(failure.message).toMatch(/^operator words: a record of 5\.0 kB exceeds the 4096-byte buffer for record \{"id":3,"text":"xxx+…$/);
    expect(Buffer.byteLength(failure.input!)).toBeLessThanOrEqual(1024);
    expect(failure.input!.endsWith('…')).toBe(true);
  });
});

describe('a window function that throws', () => {
  const poisoned: WindowFunction = {
    kind: 'aggregate',
    create: () => ({ n: 0 }),
    add: (acc, v) => {
      (acc as { n: number }).n++;
      if ((v as { poison?: boolean }).poison) throw new Error('bad record');
      return acc;
    },
    result: (acc, key, w) => `${String(key)}[${w.start},${w.end})=${(acc as { n: number }).n}`,
  };

  function harness(skips: boolean, fn = poisoned) {
    const op: OperatorNode = { name: operatorName('w'), spec: { kind: 'window', assigner: { kind: 'tumbling', size: 100, offset: 0 }, allowedLateness: 0, late: 'drop', fn }, parallelism: 1, inputs: [], chainable: true };
    const ws = new WorkingState({ gen: generation(1), ver: 0 });
    const out: unknown[] = [];
    const rejected: UserFunctionError[] = [];
    const w = new WindowOperator(op, {
      ws,
      keyGroups: { start: 0, end: 127 },
      next: (v) => out.push(v),
      late: () => {},
      watermark: () => Number.MIN_SAFE_INTEGER,
      processingTime: () => Number.MIN_SAFE_INTEGER,
      ...(skips ? { reject: (e: UserFunctionError) => void rejected.push(e), own: structuredClone } : {}),
    });
    const enc = encodeKey('a');
    return { w, out, rejected, record: (v: object, ts: number) => w.onRecord(v, ts, enc, keyGroupOf(enc, 128)) };
  }

  it('in add: the record is rejected with the operator and record, and the window state stays as it was', () => {
    const h = harness(true);
    h.record({ i: 1 }, 10);
    h.record({ i: 2, poison: true }, 20);
    h.record({ i: 3 }, 30);
    expect(h.rejected.map((e) => e.message)).toEqual(['operator w threw: bad record (record {"i":2,"poison":true})']);
    h.w.onWatermark(200);
    expect(h.out).toEqual(['a[0,100)=2']);
  });

  it('when the watermark fires it: fails, naming the window and key', () => {
    const noResult = (): never => {
      throw new Error('no result');
    };
    const h = harness(false, { ...poisoned, result: noResult } as WindowFunction);
    h.record({ i: 1 }, 10);
    expect(() => h.w.onWatermark(200)).toThrow('operator w threw: no result (window [0, 100) of key "a")');
  });
});

describe('the failure record', () => {
  it('cuts the input to 1 KiB of UTF-8, whole characters only', () => {
    const text = preview({ s: 'é'.repeat(2000) }, 1024);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(1024);
    expect(text.endsWith('é…')).toBe(true);
    expect(preview({ a: 1 }, 1024)).toBe('{"a":1}');
    expect(preview(10n, 1024)).toBe('10');
  });

  it('is set when the strategy gives up, without counting a restart', async () => {
    const manifest = new MemoryManifestStore();
    expect(await manifest.putJob({ ...initialJobRecord(jobName('fr'), generation(1)), status: 'RUNNING' }, null)).toBe(true);
    const error = UserFunctionError.threw('parse', new Error('boom'), { record: { id: 7 } });
    const after = await requestFailover(manifest, 'fr', { type: 'none' }, generation(1), failureOf(error, { stage: 'parse' as never, index: 1 }), 5, 0.5);
    expect(after).toMatchObject({ status: 'FAILED', restarts: 0, lastFailure: { code: 'USER_FUNCTION', operator: 'parse', subtask: 'parse/1', input: '{"id":7}', at: 5 } });
  });
});

describe('the onUserError setting', () => {
  it("defaults to 'fail' and rejects anything but 'fail' or 'dead-letter'", () => {
    const j = job('setting-a', {});
    j.source('s', generator({ count: 1, make: (i) => i })).sink('o', collect());
    const graph = j.build();
    expect(graph.onUserError).toBe('fail');
    expect(graph.operators.every((op) => op.onUserError === 'fail')).toBe(true);
    expect(() => job('setting-b', { onUserError: 'skip' as never })).toThrow(ConfigError);
    expect(() => job('setting-b', { onUserError: 'skip' as never })).toThrow("onUserError: must be 'fail' or 'dead-letter', got \"skip\"");
  });
});
