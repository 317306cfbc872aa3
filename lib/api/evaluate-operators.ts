/**
 * The sequential evaluation of the record-at-a-time operators: map, filter, flatMap, and
 * keyed reduce and aggregate with their state in one ordinary map (process functions:
 * evaluate-process.ts, and with operator state evaluate-operator-state.ts).
 *
 * A call that throws is the operator's user error (see evaluate-user-errors.ts). When the
 * record is skipped it must leave nothing behind, as in the engine: what the call emitted is
 * cut off the output again (a flatMap that yielded some values, a process function that
 * emitted before it threw), reduce and aggregate hand the function a copy of the
 * accumulator and keep the old one, and a process call's state entries are restored by a
 * journal that copied each one the first time the call touched it, reads included (the call
 * may change in place an object it read).
 */
import { InvariantError } from '../core/errors.js';
import type { OperatorNode } from '../core/graph.js';
import type { Event, Input, RecordOperatorOutput } from './evaluate-inputs.js';
import type { UserErrors } from './evaluate-user-errors.js';
import { evaluateOperatorState } from './evaluate-operator-state.js';
import { evaluateProcess } from './evaluate-process.js';

export function applyRecordOperator(op: OperatorNode, input: readonly Input[], errors: UserErrors): RecordOperatorOutput {
  const spec = op.spec;
  if (spec.kind === 'process' && spec.operatorState) return evaluateOperatorState(op.name, spec, input, errors);
  if (spec.kind === 'process') return evaluateProcess(op.name, spec, input, errors);
  if (!RECORD_KINDS.has(spec.kind)) throw new InvariantError(`cannot evaluate ${spec.kind} here`);
  const { own, reject } = errors;
  const out: Event[] = [];
  const state = new Map<string, unknown>();
  for (const e of input) {
    if (e.kind === 'wm') {
      out.push({ kind: 'wm', wm: e.wm });
      continue;
    }
    const emit = (value: unknown, ts = e.ts) => out.push({ kind: 'rec', value, ts });
    const emitted = out.length;
    try {
      switch (spec.kind) {
        case 'map':
          emit(spec.fn(e.value));
          break;
        case 'filter':
          if (spec.fn(e.value)) emit(e.value);
          break;
        case 'flatMap':
          for (const v of spec.fn(e.value)) emit(v);
          break;
        case 'reduce': {
          const k = e.encoded!;
          const next = state.has(k) ? spec.fn(own(state.get(k)), e.value) : e.value;
          state.set(k, next);
          emit(next);
          break;
        }
        case 'aggregate': {
          const k = e.encoded!;
          const next = spec.add(state.has(k) ? own(state.get(k)) : spec.create(), e.value);
          const result = spec.result(next, e.key);
          state.set(k, next);
          emit(result);
          break;
        }
      }
    } catch (error) {
      // Only user functions throw above: reduce and aggregate store nothing before theirs return.
      out.length = emitted;
      reject(error, e.value);
    }
  }
  return { main: out, side: new Map() };
}

const RECORD_KINDS: ReadonlySet<string> = new Set(['map', 'filter', 'flatMap', 'reduce', 'aggregate']);
