import { describe, expect, it } from 'vitest';
import { decodeEnvelope } from '../../lib/core/wire/envelope.js';
import { encodeRecords, recordsJsonOf } from '../../lib/core/wire/envelope-builders.js';
import { MalformedEnvelopeError } from '../../lib/core/errors.js';

const expect_ = { job: 'wc', stages: new Set(['count']), maxBytes: 1000 };
const reasonOf = (body: string) => {
  try {
    decodeEnvelope(body, expect_);
  } catch (e) {
    expect(e).toBeInstanceOf(MalformedEnvelopeError);
    return (e as MalformedEnvelopeError).reason;
  }
  return 'ok';
};
const valid = { v: 1, job: 'wc', gen: 2, kind: 'records', from: { op: 'src', subtask: 0 }, to: { op: 'count', subtask: 1 }, seq: 3, recs: [1, 'a', { b: 2 }] };

describe('envelopes', () => {
  it('round-trips a records buffer built from pre-encoded records', () => {
    const body = encodeRecords({ v: 1, job: 'wc', gen: 2, from: valid.from, to: valid.to }, 3, JSON.stringify(valid.recs), '[5,6,7]');
    expect(decodeEnvelope(body, expect_)).toEqual({ ...valid, ts: [5, 6, 7] });
    expect(recordsJsonOf(body, true)).toBe(JSON.stringify(valid.recs));
    const tricky = [{ a: 1, ts: [1, 2] }, ',"ts":['];
    const plain = encodeRecords({ v: 1, job: 'wc', gen: 2, from: valid.from, to: valid.to }, 4, JSON.stringify(tricky), undefined);
    expect(recordsJsonOf(plain, false)).toBe(JSON.stringify(tricky));
  });

  it.each([
    ['not json', 'not-json'],
    [JSON.stringify({ ...valid, v: 2 }), 'wrong-version'],
    [JSON.stringify({ ...valid, job: 'other' }), 'wrong-job'],
    [JSON.stringify({ ...valid, to: { op: 'nope', subtask: 0 } }), 'unknown-operator'],
    [JSON.stringify({ ...valid, seq: 0 }), 'invalid-field'],
    [JSON.stringify({ ...valid, seq: 1.5 }), 'invalid-field'],
    [JSON.stringify({ ...valid, recs: 'x' }), 'invalid-field'],
    [JSON.stringify({ ...valid, in: 0 }), 'invalid-field'],
    [JSON.stringify({ ...valid, in: 'second' }), 'invalid-field'],
    [JSON.stringify({ ...valid, ts: [1] }), 'invalid-field'],
    [JSON.stringify({ ...valid, kind: 'gossip' }), 'invalid-field'],
    [JSON.stringify({ ...valid, gen: -1 }), 'invalid-field'],
    ['[1,2]', 'invalid-field'],
    [JSON.stringify({ ...valid, recs: ['x'.repeat(1000)] }), 'oversize'],
  ])('rejects %s as %s', (body, reason) => {
    expect(reasonOf(body)).toBe(reason);
  });

  it('accepts every kind with its required fields', () => {
    const base = { v: 1, job: 'wc', gen: 1, from: valid.from, to: valid.to };
    for (const e of [
      { ...base, kind: 'barrier', seq: 1, cp: 4 },
      { ...base, kind: 'end', seq: 2 },
      { ...base, kind: 'watermark', seq: 3, wm: 1000 },
      { ...base, kind: 'trigger', cp: 4 },
      { ...base, kind: 'commit', cp: 4 },
      { ...base, kind: 'poll', round: 0, at: 5, max: 10 },
    ]) {
      expect(reasonOf(JSON.stringify(e))).toBe('ok');
    }
  });
});
