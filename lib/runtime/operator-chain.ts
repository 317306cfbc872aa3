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
import { InvariantError, UserFunctionError } from '../core/errors.js';
import type { OperatorNode, OperatorSpec, ProcessContext } from '../core/graph.js';
import { encodeKey, inRange, keyGroupOf, type KeyGroupRange } from '../core/keygroups.js';
import { stateKeys } from '../core/state-keys.js';
import type { StageTopology } from '../core/topology.js';
import { keyOf, mapState, StateJournal, valueState } from './keyed-state.js';
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
}

type Step = (value: unknown, timestamp: number | undefined) => void;

/** The key of the record being processed by the keyed head. */
interface CurrentKey { key: unknown; encoded: string; group: number }

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
  private readonly current: CurrentKey = { key: undefined, encoded: '', group: 0 };
  private readonly keySelectors = new Map<string, (value: unknown) => unknown>();
  private readonly windows: WindowOperator[] = [];

  constructor(
    private readonly stage: StageTopology,
    private readonly io: ChainIO,
  ) {
    const ops = stage.isSource ? stage.operators.slice(1) : stage.operators;
    const tail = stage.operators[stage.operators.length - 1]!.name;
    let next: Step = (v, ts) => io.out(v, ts, tail, 'main');
    for (let i = ops.length - 1; i >= 0; i--) next = this.step(ops[i]!, next);
    this.head = next;
    for (const input of stage.inputs) {
      if (input.partitioning.type === 'hash') this.keySelectors.set(input.stage, input.partitioning.key);
    }
  }

  /** Processes one record that arrived from `inputStage` (undefined for a source's own records). */
  push(value: unknown, timestamp: number | undefined, inputStage?: string): void {
    if (this.stage.keyed && !this.setKey(value, inputStage!)) return;
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

  /** The watermark advanced: windows whose time has come fire, in order. */
  onWatermark(watermark: number): void {
    for (const w of this.windows) w.onWatermark(watermark);
  }

  /** Sets the current key; false when the record was skipped because it has none. */
  private setKey(value: unknown, inputStage: string): boolean {
    const selector = this.keySelectors.get(inputStage);
    if (!selector) throw new InvariantError(`stage ${this.stage.id} has no keyed input from ${inputStage}`);
    const head = this.stage.operators[0]!;
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
    return true;
  }

  private guard(op: OperatorNode): Guard {
    if (op.onUserError === 'dead-letter') {
      return { reject: (error) => this.io.out(error, undefined, op.name, 'dead-letter'), own: structuredClone, skips: true };
    }
    return { reject: failWith, own: (value) => value, skips: false };
  }

  private step(op: OperatorNode, next: Step): Step {
    const spec: OperatorSpec = op.spec;
    const name = op.name;
    const { reject, own, skips } = this.guard(op);
    const threw = (e: unknown, v: unknown) => reject(UserFunctionError.threw(name, e, { record: v }));
    const ws = this.io.ws;
    const cur = this.current;
    switch (spec.kind) {
      case 'source':
        throw new InvariantError(`source ${name} cannot be chained after another operator`);
      case 'map':
        return (v, ts) => {
          let out;
          try {
            out = spec.fn(v);
          } catch (e) {
            return threw(e, v);
          }
          next(out, ts);
        };
      case 'filter':
        return (v, ts) => {
          let keep;
          try {
            keep = spec.fn(v);
          } catch (e) {
            return threw(e, v);
          }
          if (keep) next(v, ts);
        };
      case 'flatMap':
        return (v, ts) => {
          let outs: unknown[];
          try {
            outs = [...spec.fn(v)];
          } catch (e) {
            return threw(e, v);
          }
          for (const o of outs) next(o, ts);
        };
      case 'reduce': {
        const stateKey = this.stateKeyOf(name, 'acc');
        return (v, ts) => {
          const key = stateKey();
          const acc = ws.get(key);
          let out;
          try {
            out = acc === undefined ? v : spec.fn(own(acc), v);
          } catch (e) {
            return threw(e, v);
          }
          ws.set(key, out);
          next(out, ts);
        };
      }
      case 'aggregate': {
        const stateKey = this.stateKeyOf(name, 'acc');
        return (v, ts) => {
          const key = stateKey();
          let acc = ws.get(key);
          let out;
          try {
            acc = spec.add(acc === undefined ? spec.create() : own(acc), v);
            out = spec.result(acc, cur.key);
          } catch (e) {
            return threw(e, v);
          }
          ws.set(key, acc);
          next(out, ts);
        };
      }
      case 'process': {
        let timestamp: number | undefined;
        let emitted: [unknown, number | undefined][] = [];
        const journal = skips ? new StateJournal(ws) : null;
        const state: Record<string, unknown> = {};
        for (const [stateName, decl] of Object.entries(spec.state)) {
          const entry = () => stateKeys.keyed(name, stateName, cur.group, cur.encoded);
          state[stateName] = decl.kind === 'value' ? valueState(ws, entry, journal) : mapState(ws, entry, journal);
        }
        const ctx: ProcessContext = {
          get key() {
            return cur.key;
          },
          get timestamp() {
            return timestamp;
          },
          state,
          emit: (value, ts) => void emitted.push([value, ts ?? timestamp]),
        };
        return (v, ts) => {
          timestamp = ts;
          emitted = [];
          journal?.begin();
          try {
            spec.fn(v, ctx);
          } catch (e) {
            journal?.rollback();
            return threw(e, v);
          }
          journal?.end();
          // Passed on once the call returned, so that a call that throws has emitted nothing.
          for (const [value, at] of emitted) next(value, at);
        };
      }
      case 'sink':
        return (v, ts) => this.io.sink(name, v, ts);
      case 'window': {
        const window = new WindowOperator(op, {
          ws,
          keyGroups: this.io.keyGroups,
          next,
          late: (v, ts) => this.io.out(v, ts, name, 'late'),
          watermark: this.io.watermark,
          reject,
          own,
        });
        this.windows.push(window);
        return (v, ts) => window.onRecord(v, ts, cur.encoded, cur.group);
      }
    }
  }
}

const failWith = (error: UserFunctionError): never => {
  throw error;
};
