/**
 * State time-to-live in event time, in the engine's process operator: a value written at t
 * is read back while the watermark is below t + ttl and never at or after it; a map entry
 * and a list element each expire on their own; 'read-and-write' renews on reads; and a
 * cleanup timer removes what died from the working state, with no scan and no call of the
 * function.
 */
import { describe, expect, it } from 'vitest';
import type { OperatorSpec, ProcessContext, StateDeclarations } from '../../lib/core/graph.js';
import { generation } from '../../lib/core/ids.js';
import { encodeKey, keyGroupOf } from '../../lib/core/keygroups.js';
import { ProcessOperator } from '../../lib/runtime/process-operator.js';
import { WorkingState } from '../../lib/runtime/working-state.js';

type Handles = Record<string, Record<string, (...args: unknown[]) => unknown>>;

function harness(state: StateDeclarations, fn: (value: { op: string; arg?: unknown }, state: Handles, emit: (v: unknown) => void) => void) {
  const ws = new WorkingState({ gen: generation(1), ver: 0 });
  const out: unknown[] = [];
  let wm = Number.MIN_SAFE_INTEGER;
  const encoded = encodeKey('a');
  const current = { key: 'a' as unknown, encoded, group: keyGroupOf(encoded, 128), second: false };
  const spec: Extract<OperatorSpec, { kind: 'process' }> = { kind: 'process', state, fn: (v, ctx: ProcessContext) => fn(v as { op: string }, ctx.state as Handles, (x) => ctx.emit(x)) };
  const op = new ProcessOperator('p', spec, { ws, keyGroups: { start: 0, end: 127 }, current, next: (v) => out.push(v), out: () => {}, watermark: () => wm, processingTime: () => Number.MIN_SAFE_INTEGER, skips: false, threw: (e) => { throw e; } });
  return {
    ws,
    out,
    call: (value: { op: string; arg?: unknown }, ts: number) => op.onRecord(value, ts),
    watermark(to: number) {
      wm = to;
      op.onWatermark(to);
    },
    /** The subtask's watermark moves, the operator's timers not fired yet. */
    clockOnly(to: number) {
      wm = to;
    },
    /** Entries of the process function's state left in the working state. */
    stored: () => [...ws.entries.keys()].filter((k) => k.startsWith('k/p/') && !k.startsWith('k/p/$')),
  };
}

const ttl = (ms: number, updateOn: 'write' | 'read-and-write' = 'write') => ({ ttl: { domain: 'event-time' as const, ms, updateOn } });

describe('state time-to-live', () => {
  it('a value written at t is read while the watermark is below t + ttl, not at it, and its cleanup timer removes it', () => {
    const h = harness({ v: { kind: 'value', ...ttl(50) } }, (e, s, emit) => (e.op === 'write' ? s.v!.update!(1) : emit(s.v!.value!())));
    h.call({ op: 'write' }, 100);
    h.watermark(149);
    h.call({ op: 'read' }, 149);
    expect(h.out).toEqual([1]);
    expect(h.stored()).toHaveLength(1);
    h.watermark(150); // the cleanup timer at 150 fires
    expect(h.stored()).toEqual([]);
    h.call({ op: 'read' }, 150);
    expect(h.out).toEqual([1, undefined]);
  });

  it('an expired value is not read even before its cleanup timer fired', () => {
    const h = harness({ v: { kind: 'value', ...ttl(50) } }, (e, s, emit) => (e.op === 'write' ? s.v!.update!(1) : emit(s.v!.value!())));
    h.call({ op: 'write' }, 100);
    h.clockOnly(150);
    h.call({ op: 'read' }, 150);
    expect(h.out).toEqual([undefined]);
    expect(h.stored()).toHaveLength(1); // still there: reads check the time themselves
  });

  it('map entries and list elements expire one by one; a write renews only what it wrote', () => {
    const h = harness({ m: { kind: 'map', ...ttl(100) }, l: { kind: 'list', ...ttl(100) } }, (e, s, emit) => {
      if (e.op === 'put') {
        s.m!.put!(e.arg, e.arg);
        s.l!.add!(e.arg);
      } else emit({ keys: s.m!.keys!(), list: s.l!.get!() });
    });
    h.call({ op: 'put', arg: 'x' }, 0);
    h.call({ op: 'put', arg: 'y' }, 60);
    h.watermark(99);
    h.call({ op: 'read' }, 99);
    h.watermark(100);
    h.call({ op: 'read' }, 100);
    h.watermark(160);
    h.call({ op: 'read' }, 160);
    expect(h.out).toEqual([
      { keys: ['x', 'y'], list: ['x', 'y'] },
      { keys: ['y'], list: ['y'] },
      { keys: [], list: [] },
    ]);
    expect(h.stored()).toEqual([]);
  });

  it("'read-and-write' renews a value on each read; 'write' does not", () => {
    for (const updateOn of ['write', 'read-and-write'] as const) {
      const h = harness({ v: { kind: 'value', ...ttl(50, updateOn) } }, (e, s, emit) => (e.op === 'write' ? s.v!.update!(1) : emit(s.v!.value!())));
      h.call({ op: 'write' }, 0);
      h.watermark(40);
      h.call({ op: 'read' }, 40); // renews to 40 + 50 with read-and-write
      h.watermark(60);
      h.call({ op: 'read' }, 60);
      expect(h.out, updateOn).toEqual(updateOn === 'write' ? [1, undefined] : [1, 1]);
    }
  });
});
