/**
 * Runs a stage's chain of user operators over one record at a time: map, filter, flatMap,
 * and at the head of a keyed stage reduce, aggregate or a keyed process function with
 * ValueState/MapState. The tail hands records to the output router or, for a sink, to the
 * sink's staging. User functions must be deterministic; when one throws, the error names
 * the operator and the record, and the job fails over (the record would throw again) — or,
 * with `onUserError: 'dead-letter'`, the record is skipped at that operator and goes to the
 * dead-letter output. A skipped call leaves nothing behind: reduce and aggregate work on a
 * copy of the accumulator, a process function's state changes are journaled and undone,
 * and what it emitted is passed on only once it has returned.
 */
import { classify } from '../core/error-boundary.js';
import { InvariantError, UserFunctionError } from '../core/errors.js';
import type { OperatorNode, OperatorSpec } from '../core/graph.js';
import { encodeKey, inRange, keyGroupOf, type KeyGroupRange } from '../core/keygroups.js';
import { KEYED_STATE, stateKeys } from '../core/wire/state-keys.js';
import { MAX_WATERMARK } from '../core/watermarks.js';
import type { StageTopology } from '../core/topology.js';
import { keyOf } from './keyed-state.js';
import { OperatorStateProcess } from './operator-state-process.js';
import { checksRecords, misfit } from './sink-formats.js';
import { ProcessOperator } from './process-operator.js';
import type { RoutedPort } from './output-router.js';
import { WindowOperator } from './window-operator.js';
import type { WorkingState } from './working-state.js';

export interface ChainIO {
  readonly ws: WorkingState;
  readonly maxParallelism: number;
  readonly keyGroups: KeyGroupRange;
  /** Records leaving the stage: `fromOp`'s main output, its late-records output, or (the
   *  value then being the UserFunctionError) a record skipped to the dead-letter output. */
  readonly out: (value: unknown, timestamp: number | undefined, fromOp?: string, port?: RoutedPort) => void;
  readonly sink: (op: string, value: unknown, timestamp: number | undefined) => void;
  /** The subtask's current event-time watermark. */
  readonly watermark: () => number;
  /** The subtask's recorded processing time (TimerService). */
  readonly processingTime: () => number;
}

type Step = (value: unknown, timestamp: number | undefined) => void;
/** The operator's user function threw `error` on `record`. */
type Threw = (error: unknown, record: unknown) => void;
type SpecOf<K extends OperatorSpec['kind']> = Extract<OperatorSpec, { kind: K }>;

/** The key of the record being processed by the keyed head, and whether it came on the
 *  second input of a connected process function. */
interface CurrentKey { key: unknown; encoded: string; group: number; second: boolean }

/** What an operator does with a record its user function failed on. */
interface Guard {
  /** Fails the invocation, or (dead-letter) skips the record to the dead-letter output. */
  readonly reject: (error: UserFunctionError) => void;
  /** A copy of state handed to a user function, when a throw must leave the state untouched. */
  readonly own: <T>(value: T) => T;
  readonly skips: boolean;
}

export class OperatorChain {
  private readonly head: Step;
  private readonly current: CurrentKey = { key: undefined, encoded: '', group: 0, second: false };
  /** Operators with event-time timers, in chain order. */
  private readonly timed: (WindowOperator | ProcessOperator)[] = [];
  /** Keyed process functions and windows (processing-time timers), in chain order. */
  private readonly clocked: (ProcessOperator | WindowOperator)[] = [];
  /** The head is a two-input function (connect): which input a record came on matters. */
  private readonly twoInputs: boolean;
  /** Functions with operator state, head first: they hear of the end of input in this order. */
  private readonly ending: OperatorStateProcess[] = [];

  constructor(
    private readonly stage: StageTopology,
    private readonly io: ChainIO,
  ) {
    const head = stage.operators[0]!.spec;
    this.twoInputs = head.kind === 'process' && head.fn2 !== undefined;
    const ops = stage.isSource ? stage.operators.slice(1) : stage.operators;
    const tail = stage.operators[stage.operators.length - 1]!.name;
    let next: Step = (v, ts) => io.out(v, ts, tail, 'main');
    for (let i = ops.length - 1; i >= 0; i--) next = this.step(ops[i]!, next);
    this.head = next;
  }

  /** Processes one record that arrived from `inputStage` on the head's input `input`
   *  (StageEdge.input); both undefined for a source's own records. */
  push(value: unknown, timestamp: number | undefined, inputStage?: string, input = 0): void {
    if (this.stage.keyed) {
      if (!this.setKey(value, inputStage!, input)) return;
    } else if (this.twoInputs) {
      this.current.second = this.stage.operators[0]!.inputs[input]?.input === 2;
    }
    this.head(value, timestamp);
  }

  /**
   * The current key's state entry key, remembered per key for this invocation: building and
   * hashing a fresh 30-character string for every record is a measurable share of the cost.
   */
  private stateKeyOf(op: string, state: string): () => string {
    const known = new Map<string, string>();
    const cur = this.current;
    return () => {
      let key = known.get(cur.encoded);
      if (key === undefined) known.set(cur.encoded, (key = stateKeys.keyed(op, state, cur.group, cur.encoded)));
      return key;
    };
  }

  /** The subtask's input ended: processing-time timers still waiting fire (as the end of
   *  event time fires event-time timers), then functions with operator state may flush, head
   *  first (what one emits reaches the next before that one hears of it). */
  endInput(): void {
    this.onProcessingTime(MAX_WATERMARK);
    for (const op of this.ending) op.endInput();
  }

  /** Processing time moved: process functions' processing-time timers whose time has come fire, in chain order. */
  onProcessingTime(time: number): void {
    for (const op of this.clocked) op.onProcessingTime(time);
  }

  /** The watermark advanced: windows and process functions' timers whose time has come fire, in chain order. */
  onWatermark(watermark: number): void {
    for (const op of this.timed) op.onWatermark(watermark);
  }

  /** Sets the current key; false when the record was skipped because it has none. */
  private setKey(value: unknown, inputStage: string, input: number): boolean {
    const edge = this.stage.inputs[input];
    const head = this.stage.operators[0]!;
    if (edge?.stage === inputStage && edge.partitioning.type === 'broadcast' && head.inputs[input]?.input === 2) {
      // A broadcast record of broadcast state has no key: the function's call for it has none.
      this.current.second = true;
      return true;
    }
    if (edge?.stage !== inputStage || edge.partitioning.type !== 'hash') {
      throw new InvariantError(`stage ${this.stage.id} has no keyed input ${input} from ${inputStage}`);
    }
    const selector = edge.partitioning.key;
    let key: unknown;
    try {
      key = keyOf(selector, value, head.name);
    } catch (e) {
      if (!(e instanceof UserFunctionError)) throw e;
      this.guard(head).reject(e);
      return false;
    }
    const encoded = encodeKey(key);
    const group = keyGroupOf(encoded, this.io.maxParallelism);
    if (!inRange(this.io.keyGroups, group)) {
      throw new InvariantError(`key ${encoded} (key group ${group}) does not belong to this subtask of ${head.name}`);
    }
    this.current.key = key;
    this.current.encoded = encoded;
    this.current.group = group;
    this.current.second = head.inputs[input]?.input === 2;
    return true;
  }

  private guard(op: OperatorNode): Guard {
    if (op.onUserError === 'dead-letter') {
      const policy = { onUserError: op.onUserError };
      const reject = (error: UserFunctionError) => (classify(error, policy) === 'dead-letter' ? this.io.out(error, undefined, op.name, 'dead-letter') : failWith(error));
      return { reject, own: structuredClone, skips: true };
    }
    return { reject: failWith, own: (value) => value, skips: false };
  }

  /** The step of `op`, which hands what it outputs to `next`. */
  private step(op: OperatorNode, next: Step): Step {
    const spec: OperatorSpec = op.spec;
    const guard = this.guard(op);
    const threw: Threw = (e, v) => guard.reject(UserFunctionError.threw(op.name, e, { record: v }));
    switch (spec.kind) {
      case 'source':
        throw new InvariantError(`source ${op.name} cannot be chained after another operator`);
      case 'map':
      case 'filter':
      case 'flatMap':
        return statelessStep(spec, threw, next);
      case 'reduce':
      case 'aggregate':
        return this.accumulatorStep(op.name, spec, guard, threw, next);
      case 'process':
        return this.processStep(op.name, spec, guard, threw, next);
      case 'sink': {
        const sink = spec.sink;
        if (sink.kind !== 's3' || !checksRecords(sink)) return (v, ts) => this.io.sink(op.name, v, ts);
        // A record a CSV or Parquet sink cannot hold is that sink's user error, here, before any commit.
        return (v, ts) => {
          const problem = misfit(sink.format, v);
          if (problem === null) return this.io.sink(op.name, v, ts);
          guard.reject(UserFunctionError.invalid(op.name, problem, { record: v }));
        };
      }
      case 'window':
        return this.windowStep(op, guard, next);
    }
  }

  /** The accumulator is stored only once the function returned: a throw leaves it as it was. */
  private accumulatorStep(name: string, spec: SpecOf<'reduce' | 'aggregate'>, { own }: Guard, threw: Threw, next: Step): Step {
    const stateKey = this.stateKeyOf(name, KEYED_STATE.accumulator);
    const [ws, cur] = [this.io.ws, this.current];
    return (v, ts) => {
      const key = stateKey();
      const acc = ws.get(key);
      let updated, out;
      try {
        if (spec.kind === 'reduce') out = updated = acc === undefined ? v : spec.fn(own(acc), v);
        else out = spec.result((updated = spec.add(acc === undefined ? spec.create() : own(acc), v)), cur.key);
      } catch (e) {
        return threw(e, v);
      }
      ws.set(key, updated);
      next(out, ts);
    };
  }

  /** A keyed process function (process-operator.ts); the chain fires its timers on every watermark. */
  private processStep(name: string, spec: SpecOf<'process'>, { skips }: Guard, threw: Threw, next: Step): Step {
    if (spec.operatorState) {
      const io = {
        ws: this.io.ws,
        current: this.current,
        next,
        out: (v: unknown, ts: number | undefined, from: string, port: RoutedPort) => this.io.out(v, ts, from, port),
        watermark: this.io.watermark,
        processingTime: this.io.processingTime,
        skips,
        threw,
      };
      const op = new OperatorStateProcess(name, spec, io);
      // Steps are made tail first: each one made goes before the ones made already.
      this.ending.unshift(op);
      return (v, ts) => op.onRecord(v, ts);
    }
    const { ws, keyGroups, watermark, processingTime } = this.io;
    const op = new ProcessOperator(name, spec, { ws, keyGroups, current: this.current, next, out: (v, ts, from, port) => this.io.out(v, ts, from, port), watermark, processingTime, skips, threw });
    this.timed.push(op);
    this.clocked.push(op);
    return (v, ts) => op.onRecord(v, ts);
  }

  /** The window operator keeps its own state; the chain fires it on every watermark. */
  private windowStep(op: OperatorNode, { reject, own }: Guard, next: Step): Step {
    const window = new WindowOperator(op, {
      ws: this.io.ws,
      keyGroups: this.io.keyGroups,
      next,
      late: (v, ts) => this.io.out(v, ts, op.name, 'late'),
      watermark: this.io.watermark,
      processingTime: this.io.processingTime,
      reject,
      own,
    });
    this.timed.push(window);
    this.clocked.push(window);
    const cur = this.current;
    return (v, ts) => window.onRecord(v, ts, cur.encoded, cur.group);
  }
}

/**
 * map, filter and flatMap keep no state. The user function's call ends before anything passes
 * on: a call that throws passes nothing on, and an error downstream is never taken for its.
 */
function statelessStep(spec: SpecOf<'map' | 'filter' | 'flatMap'>, threw: Threw, next: Step): Step {
  const call = spec.kind === 'flatMap' ? (v: unknown) => [...spec.fn(v)] : (v: unknown) => spec.fn(v);
  const pass: (result: unknown, v: unknown, ts: number | undefined) => void =
    spec.kind === 'map'
      ? (out, _v, ts) => next(out, ts)
      : spec.kind === 'filter'
        ? (keep, v, ts) => void (keep && next(v, ts))
        : (outs, _v, ts) => (outs as unknown[]).forEach((o) => next(o, ts));
  return (v, ts) => {
    let result;
    try {
      result = call(v);
    } catch (e) {
      return threw(e, v);
    }
    pass(result, v, ts);
  };
}

const failWith = (error: UserFunctionError): never => {
  throw error;
};
