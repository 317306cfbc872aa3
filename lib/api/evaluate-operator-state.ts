/**
 * The sequential evaluation of a process function on a stream that is not keyed (operator
 * state): as one subtask, its lists in one ordinary map — split and union list state are the
 * same list here — and `endInput` once every input ended, after the last watermark. Which
 * subtask a record goes to is not modelled (see evaluate.ts): a function whose output
 * depends on how records are spread over subtasks gives one of the possible answers, and
 * `endInput` runs once, where the engine runs it once per subtask.
 */
import { UserFunctionError } from '../core/errors.js';
import { sideOutputPort, type OperatorSpec, type OutputPort, type ProcessContext } from '../core/graph.js';
import { MIN, type Event, type Input, type RecordOperatorOutput } from './evaluate-inputs.js';
import { Journal } from './evaluate-process.js';
import type { UserErrors } from './evaluate-user-errors.js';

type ProcessSpec = Extract<OperatorSpec, { kind: 'process' }>;

export function evaluateOperatorState(name: string, spec: ProcessSpec, input: readonly Input[], errors: UserErrors): RecordOperatorOutput {
  const out: Event[] = [];
  const side = new Map<OutputPort, Event[]>((spec.sideOutputs ?? []).map((tag) => [sideOutputPort(tag), []]));
  const store = new Map<string, unknown>();
  const journal = errors.skips ? new Journal(store) : null;
  let watermark = Number.MIN_SAFE_INTEGER;
  let emitted: [Event[], Event][] = [];
  let timestamp: number | undefined;
  const noKey = () => {
    throw UserFunctionError.invalid(name, 'timers need a key: this stream is not keyed (keyBy first)', null);
  };
  const ctx: ProcessContext = {
    key: undefined,
    get timestamp() {
      return timestamp;
    },
    state: Object.fromEntries(Object.keys(spec.state).map((stateName) => [stateName, lists(store, stateName, journal)])),
    emit: (value, ts) => void emitted.push([out, { kind: 'rec', value, ts: ts ?? timestamp }]),
    output: (tag, value, ts) => {
      const list = side.get(sideOutputPort(tag));
      if (!list) throw UserFunctionError.invalid(name, `emitted to side output ${JSON.stringify(tag)}, which it does not declare in sideOutputs`, null);
      emitted.push([list, { kind: 'rec', value, ts: ts ?? timestamp }]);
    },
    // No processing time passes in the evaluation.
    timerService: {
      currentWatermark: () => watermark,
      registerEventTimeTimer: noKey,
      deleteEventTimeTimer: noKey,
      currentProcessingTime: () => MIN,
      registerProcessingTimeTimer: noKey,
      deleteProcessingTimeTimer: noKey,
    },
    broadcastState: {},
  };
  const passOn = () => {
    for (const [list, e] of emitted) list.push(e);
    emitted = [];
  };
  for (const e of input) {
    if (e.kind === 'wm') {
      watermark = e.wm;
      for (const list of [out, ...side.values()]) list.push({ kind: 'wm', wm: e.wm });
      continue;
    }
    timestamp = e.ts;
    journal?.begin();
    try {
      (e.second ? spec.fn2! : spec.fn)(e.value, ctx);
      journal?.end();
      passOn();
    } catch (error) {
      journal?.rollback();
      emitted = [];
      errors.reject(error, e.value);
    }
  }
  endInput(name, spec, ctx, () => (timestamp = undefined));
  passOn();
  return { main: out, side };
}

function endInput(name: string, spec: ProcessSpec, ctx: ProcessContext, reset: () => void): void {
  if (!spec.endInput) return;
  reset();
  try {
    spec.endInput(ctx);
  } catch (e) {
    throw UserFunctionError.threw(name, e, null, 'endInput');
  }
}

/** A list in the store, written apart from the engine's handles (this is the reference). */
function lists(store: Map<string, unknown>, stateName: string, journal: Journal | null) {
  const read = () => (journal?.keep(stateName), (store.get(stateName) as unknown[] | undefined) ?? []);
  const put = (vs: unknown[]) => (journal?.keep(stateName), vs.length === 0 ? store.delete(stateName) : store.set(stateName, vs));
  return {
    get: () => [...read()],
    add: (v: unknown) => put([...read(), v]),
    addAll: (vs: unknown[]) => put([...read(), ...vs]),
    update: (vs: unknown[]) => put([...vs]),
    clear: () => put([]),
  };
}
