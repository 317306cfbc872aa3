/**
 * The wire format, pinned: every builder's output round-trips through its parser, and the
 * strings a retry must reproduce exactly (dedup ids, bodies, keys) are asserted literally.
 */
import { describe, expect, it } from 'vitest';
import { checkpointId, generation, stageId, type JobName, type SubtaskKey } from '../../lib/core/ids.js';
import {
  blobKeys,
  commitMarkerBody,
  dedupIds,
  deadLetterReasonOf,
  deadLetterWrapperBody,
  decodeEnvelope,
  envelopes,
  fromCoordinator,
  keyGroupOfEntry,
  parseCommitMarker,
  parseCommitMarkerBody,
  parseS3SinkObject,
  parseStagedPart,
  parseStateKey,
  parseTimerMessage,
  partNames,
  recordDeadLetterBody,
  recordsJsonOf,
  sourceDeadLetterBody,
  spilledKeyOf,
  spillPointerBody,
  stateBaseBody,
  stateDeltaBody,
  stateKeys,
  tableKeys,
  timerMessageBody,
  type StateKeyEntry,
} from '../../lib/core/wire/index.js';

const job = 'wc' as JobName;
const up = { op: 'src', subtask: 0 };
const down = { op: 'count', subtask: 1 };
const h = { job, gen: 2, from: up, to: down };
const expectations = { job, stages: new Set(['count']), maxBytes: 10_000 };
const head = '"v":1,"job":"wc","gen":2';
const ends = '"from":{"op":"src","subtask":0},"to":{"op":"count","subtask":1}';
const fromCoord = `"from":{"op":"$coordinator","subtask":0},"to":{"op":"count","subtask":1}`;

describe('envelope builders', () => {
  const toCount = fromCoordinator(job, 2, down);
  it.each([
    ['records', envelopes.records(h, 3, '[1,"a"]', undefined), `{${head},"kind":"records",${ends},"seq":3,"recs":[1,"a"]}`, { kind: 'records', seq: 3, recs: [1, 'a'] }],
    ['records+ts+wm', envelopes.records(h, 3, '[1]', '[7]', 5), `{${head},"kind":"records",${ends},"seq":3,"wm":5,"recs":[1],"ts":[7]}`, { kind: 'records', seq: 3, wm: 5, recs: [1], ts: [7] }],
    ['records for a second input', envelopes.records(h, 3, '[1]', undefined, 5, 1), `{${head},"kind":"records",${ends},"seq":3,"in":1,"wm":5,"recs":[1]}`, { kind: 'records', seq: 3, in: 1, wm: 5, recs: [1] }],
    ['watermark', envelopes.watermark(h, 4, 100, false), `{${head},"kind":"watermark",${ends},"seq":4,"wm":100}`, { kind: 'watermark', seq: 4, wm: 100 }],
    ['idle watermark', envelopes.watermark(h, 4, 100, true), `{${head},"kind":"watermark",${ends},"seq":4,"wm":100,"idle":true}`, { kind: 'watermark', seq: 4, wm: 100, idle: true }],
    ['barrier', envelopes.barrier(h, 5, 9), `{${head},"kind":"barrier",${ends},"seq":5,"cp":9}`, { kind: 'barrier', seq: 5, cp: 9 }],
    ['end', envelopes.end(h, 6), `{${head},"kind":"end",${ends},"seq":6}`, { kind: 'end', seq: 6 }],
    ['trigger', envelopes.trigger(toCount, 9, false), `{${head},${fromCoord},"kind":"trigger","cp":9}`, { kind: 'trigger', cp: 9 }],
    ['stop trigger', envelopes.trigger(toCount, 9, true), `{${head},${fromCoord},"kind":"trigger","cp":9,"stop":true}`, { kind: 'trigger', cp: 9, stop: true }],
    ['commit', envelopes.commit(toCount, 9, false), `{${head},${fromCoord},"kind":"commit","cp":9}`, { kind: 'commit', cp: 9 }],
    ['last commit', envelopes.commit(toCount, 9, true), `{${head},${fromCoord},"kind":"commit","cp":9,"last":true}`, { kind: 'commit', cp: 9, last: true }],
    [
      'start poll',
      envelopes.startPoll(toCount, { round: 2, at: 50, max: 10, limits: { below: 3 } }),
      `{${head},${fromCoord},"kind":"poll","round":2,"at":50,"max":10,"start":true,"limits":{"below":3}}`,
      { kind: 'poll', round: 2, at: 50, max: 10, start: true, limits: { below: 3 } },
    ],
    ['poll', envelopes.poll(h, { round: 3, at: 60, max: 0 }), `{${head},"kind":"poll",${ends},"round":3,"at":60,"max":0}`, { kind: 'poll', round: 3, at: 60, max: 0 }],
  ])('%s: exact bytes, decoded back', (_, body, text, fields) => {
    expect(body).toBe(text);
    const from = fields.kind === 'trigger' || fields.kind === 'commit' || (fields.kind === 'poll' && 'start' in fields) ? { op: '$coordinator', subtask: 0 } : up;
    expect(decodeEnvelope(body, expectations)).toEqual({ v: 1, job, gen: 2, from, to: down, ...fields });
  });

  it('finds the records of a records body without parsing it', () => {
    expect(recordsJsonOf(envelopes.records(h, 1, '[{"ts":[1]}]', '[1]', 3), true)).toBe('[{"ts":[1]}]');
    expect(recordsJsonOf(envelopes.records(h, 1, '[",\\"ts\\":["]', undefined), false)).toBe('[",\\"ts\\":["]');
  });
});

describe('dedup ids', () => {
  const gen = generation(3);
  it.each([
    ['channel', dedupIds.channel(gen, { stage: stageId('map'), index: 1 }, 2, 17), '3:map.1>2:17'],
    ['control', dedupIds.control(gen, 'x', 4), '3:x:4'],
    ['trigger', dedupIds.trigger(gen, 8, 0), '3:trigger:8:0'],
    ['commit', dedupIds.commit(gen, 8, 1), '3:commit:8:1'],
    ['start poll', dedupIds.startPoll(gen, 2), '3:start:2'],
    ['poll', dedupIds.poll(gen, 2, 11), '3:poll:2:11'],
    ['dead letter', dedupIds.deadLetter('m-42'), 'dlq:m-42'],
    ['timer', dedupIds.timer(7), 'timer-7'],
  ])('%s', (_, id, expected) => expect(id).toBe(expected));
});

describe('state keys', () => {
  it.each<[string, string, StateKeyEntry]>([
    ['in seq', stateKeys.inSeq('a.0>b.1'), { kind: 'channel', field: 'inSeq', channel: 'a.0>b.1' }],
    ['out seq', stateKeys.outSeq('b.1>c.0'), { kind: 'channel', field: 'outSeq', channel: 'b.1>c.0' }],
    ['ended', stateKeys.ended('a.0>b.1'), { kind: 'channel', field: 'ended', channel: 'a.0>b.1' }],
    ['alignment', stateKeys.alignment, { kind: 'generation', name: 'alignment' }],
    ['buffer head', stateKeys.bufferHead, { kind: 'generation', name: 'bufferHead' }],
    ['buffer tail', stateKeys.bufferTail, { kind: 'generation', name: 'bufferTail' }],
    ['progress', stateKeys.progress, { kind: 'generation', name: 'progress' }],
    ['finished', stateKeys.finished, { kind: 'generation', name: 'finished' }],
    ['topology', stateKeys.topology, { kind: 'generation', name: 'topology' }],
    ['watermark sent', stateKeys.watermarkSent, { kind: 'generation', name: 'watermarkSent' }],
    ['buffered', stateKeys.buffered(12), { kind: 'buffered', n: 12 }],
    ['timer index', stateKeys.timerIndex('win'), { kind: 'timer-index', op: 'win' }],
    ['watermark', stateKeys.watermark, { kind: 'watermark' }],
    ['input watermark', stateKeys.inputWatermark('a.0'), { kind: 'input-watermark', upstream: 'a.0' }],
    ['counter', stateKeys.counter('win', 'lateDropped'), { kind: 'counter', op: 'win', name: 'lateDropped' }],
    ['source', stateKeys.source('src'), { kind: 'source', op: 'src' }],
    ['keyed', stateKeys.keyed('sum', 'acc', 7, '"a/b"'), { kind: 'keyed', op: 'sum', state: 'acc', group: 7, key: '"a/b"' }],
    ['window cells', stateKeys.windowCells('win', 3, '"k"'), { kind: 'keyed', op: 'win', state: 'w', group: 3, key: '"k"' }],
    ['window timers', stateKeys.windowTimers('win', 3, 1000), { kind: 'keyed', op: 'win', state: '$t', group: 3, key: '1000' }],
    ['broadcast', stateKeys.broadcast('price', 'rules'), { kind: 'broadcast', op: 'price', state: 'rules' }],
    ['sink part', stateKeys.sinkPart('out', partNames.channel('a.0>b.1', 4)), { kind: 'sink-part', op: 'out', part: 'a.0>b.1@4' }],
    ['sink txn', stateKeys.sinkTxn('out', 9, 1), { kind: 'sink-txn', op: 'out', checkpoint: 9, subtask: 1 }],
    ['unknown family', 'zz/1', { kind: 'unknown', family: 'zz' }],
    ['short keyed', 'k/sum/acc', { kind: 'unknown', family: 'k' }],
    ['non-numeric group', 'k/sum/acc/x/"a"', { kind: 'unknown', family: 'k' }],
    ['non-numeric txn', 'snk/out/t/x/1', { kind: 'unknown', family: 'snk' }],
    ['txn with extra segment', 'snk/out/t/1/2/3', { kind: 'unknown', family: 'snk' }],
    ['unknown generation entry', 'c/zz', { kind: 'unknown', family: 'c' }],
    ['prototype name', 'c/toString/x', { kind: 'unknown', family: 'c' }],
  ])('%s: %s', (_, key, entry) => expect(parseStateKey(key)).toEqual(entry));

  it('pins the short keys', () => {
    expect([stateKeys.alignment, stateKeys.bufferHead, stateKeys.bufferTail, stateKeys.progress, stateKeys.finished, stateKeys.topology, stateKeys.watermarkSent]).toEqual([
      'c/a', 'c/bh', 'c/bt', 'c/p', 'c/f', 'c/t', 'c/ws',
    ]);
    expect(stateKeys.sinkTxn('out', 9, 1)).toBe('snk/out/t/9/1');
    expect(stateKeys.broadcast('price', 'rules')).toBe('b/price/rules');
    expect(stateKeys.windowTimers('win', 3, 1000)).toBe('k/win/$t/3/1000');
    expect(stateKeys.windowTimers('win', 3, 1000).startsWith(stateKeys.windowTimersPrefix('win'))).toBe(true);
  });

  it('finds the key group of keyed entries only', () => {
    expect(keyGroupOfEntry(stateKeys.keyed('sum', 'acc', 42, '"x/y"'))).toBe(42);
    expect(keyGroupOfEntry(stateKeys.source('src'))).toBeNull();
    expect(keyGroupOfEntry(stateKeys.broadcast('price', 'rules'))).toBeNull();
  });
});

describe('storage keys', () => {
  const cp = checkpointId(7);
  it('round-trips staged parts, commit markers and S3 sink objects', () => {
    const staged = blobKeys.stagedPart(job, 'out', 1, generation(3), partNames.poll(5));
    expect(staged).toBe('jobs/wc/sinks/out/staged/1/00000003/poll@5');
    expect(parseStagedPart(staged)).toEqual({ sink: 'out', subtask: 1, gen: 3, part: 'poll@5' });
    const marker = blobKeys.commitMarker(job, 'out', cp, 2);
    expect(marker).toBe('jobs/wc/sinks/out/committed/000000000007/2.json');
    expect(parseCommitMarker(marker)).toEqual({ sink: 'out', checkpoint: 7, subtask: 2 });
    const object = blobKeys.s3SinkObject(job, 'out/', cp, 2);
    expect(object).toBe('jobs/wc/out/000000000007-2.ndjson');
    expect(parseS3SinkObject(object, job, 'out/')).toEqual({ checkpoint: 7, subtask: 2 });
    expect(parseS3SinkObject(object, job, 'other/')).toBeNull();
    expect(parseStagedPart(marker)).toBeNull();
    expect(parseCommitMarker(staged)).toBeNull();
  });

  it('names objects under the job area', () => {
    expect(blobKeys.jobObject(job, 'input/a.ndjson')).toBe('jobs/wc/input/a.ndjson');
    expect(blobKeys.relativeToJob(job, blobKeys.jobObject(job, 'input/a.ndjson'))).toBe('input/a.ndjson');
    expect(blobKeys.deadLettersPrefix(job)).toBe('jobs/wc/dead-letters/');
    expect(blobKeys.deadLetter(job, 'src', 'a.ndjson:3').startsWith(blobKeys.deadLettersPrefix(job))).toBe(true);
    expect(blobKeys.recordDeadLetter(job, 'map', 'ab').startsWith(blobKeys.deadLettersPrefix(job))).toBe(true);
  });

  it('round-trips table sort keys', () => {
    const version = { gen: generation(2), ver: 31 };
    expect(tableKeys.stateSk(version, 'd')).toBe('s#00000002#000000000031#d');
    expect(tableKeys.parseStateSk(tableKeys.stateSk(version, 'd'))).toEqual({ version, kind: 'd' });
    expect(tableKeys.checkpointIdOfSk(tableKeys.checkpointSk(cp))).toBe(7);
    expect(tableKeys.logOffsetOfSk(tableKeys.logSk(123))).toBe(123);
    // Ack items: under their checkpoint's prefix, never under the checkpoints' own.
    const ack = tableKeys.ackSk(cp, 'count/12' as SubtaskKey);
    expect(ack).toBe('ack#000000000007#count/12');
    expect(ack.startsWith(tableKeys.ackSkPrefix(cp)) && !ack.startsWith(tableKeys.checkpointSkPrefix)).toBe(true);
    expect(tableKeys.ackSk(cp, 'count/12' as SubtaskKey).startsWith(tableKeys.ackSkPrefix(checkpointId(70)))).toBe(false);
    expect(tableKeys.subtaskOfAckSk(ack)).toBe('count/12');
  });
});

describe('other bodies', () => {
  it('round-trips the timer message', () => {
    expect(timerMessageBody('wc', 4)).toBe('{"job":"wc","token":4}');
    expect(parseTimerMessage(timerMessageBody('wc', 4), 'wc')).toEqual({ job: 'wc', token: 4 });
    expect(parseTimerMessage(timerMessageBody('other', 4), 'wc')).toBeNull();
    expect(parseTimerMessage('not json', 'wc')).toBeNull();
  });

  it('wraps an undecodable message for the dead-letter queue, cutting a long body', () => {
    const message = { messageId: 'm1', group: '0', body: 'x'.repeat(10) };
    expect(deadLetterWrapperBody(message, 'not-json', 'bad', 100)).toBe(
      '{"deadLetter":{"reason":"not-json","detail":"bad","group":"0","messageId":"m1"},"body":"xxxxxxxxxx"}',
    );
    const cut = deadLetterWrapperBody(message, 'oversize', 'big', 4);
    expect(JSON.parse(cut)).toEqual({ deadLetter: { reason: 'oversize', detail: 'big', group: '0', messageId: 'm1', truncated: 10 }, body: 'xxxx' });
    expect(deadLetterReasonOf(JSON.parse(cut))).toBe('oversize');
    expect(deadLetterReasonOf(JSON.parse(envelopes.end(h, 1)))).toBeNull();
    expect(deadLetterReasonOf(null)).toBeNull();
  });

  it('builds stored bodies in their fixed key order', () => {
    expect(sourceDeadLetterBody({ source: 's', where: 'a:1', reason: 'not-json', text: '{' })).toBe('{"source":"s","where":"a:1","reason":"not-json","text":"{"}');
    const recordBody = recordDeadLetterBody({ operator: 'map', subtask: 'map/0', error: { code: 'USER_FUNCTION', message: 'boom', cause: null } }, '{"a":1}');
    expect(recordBody).toBe('{"operator":"map","subtask":"map/0","error":{"code":"USER_FUNCTION","message":"boom","cause":null},"record":{"a":1}}');
    const marker = { checkpoint: 3, subtask: 1, parts: ['p1', 'p2'] };
    expect(commitMarkerBody(marker)).toBe('{"checkpoint":3,"subtask":1,"parts":["p1","p2"]}');
    expect(parseCommitMarkerBody(commitMarkerBody(marker))).toEqual(marker);
  });

  it('builds state items with their one-letter fields', () => {
    expect(stateBaseBody(new Map([['c/p', 1]]))).toBe('{"e":[["c/p",1]]}');
    expect(stateDeltaBody({ s: [['c/p', 2]], d: ['c/f'] })).toBe('{"s":[["c/p",2]],"d":["c/f"]}');
    expect(spilledKeyOf(JSON.parse(spillPointerBody('jobs/wc/state/x')))).toBe('jobs/wc/state/x');
    expect(spilledKeyOf(JSON.parse(stateBaseBody(new Map())))).toBeUndefined();
  });
});
