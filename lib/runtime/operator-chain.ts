/**
 * Runs a stage's chain of user operators over one record at a time: map, filter, flatMap,
 * and at the head of a keyed stage reduce, aggregate or a keyed process function with
 * ValueState/MapState. The tail hands records to the output router or, for a sink, to the
 * sink's staging. User functions must be deterministic; when one throws, the error names
 * the operator and the job fails over (the record would throw again on retry).
 */
import { InvariantError, UserFunctionError } from '../core/errors.js';
import type { OperatorNode, OperatorSpec, OutputPort, ProcessContext } from '../core/graph.js';
import { decodeKey, encodeKey, inRange, keyGroupOf, type KeyGroupRange } from '../core/keygroups.js';
import { stateKeys } from '../core/state-keys.js';
import type { StageTopology } from '../core/topology.js';
import { WindowOperator } from './window-operator.js';
import type { WorkingState } from './working-state.js';

export interface ChainIO {
  readonly ws: WorkingState;
  readonly maxParallelism: number;
  readonly keyGroups: KeyGroupRange;
  /** Records leaving the stage: `fromOp`'s main output, or its late-records output. */
  readonly out: (value: unknown, timestamp: number | undefined, fromOp?: string, port?: OutputPort) => void;
  readonly sink: (op: string, value: unknown, timestamp: number | undefined) => void;
  /** The subtask's current event-time watermark. */
  readonly watermark: () => number;
}

type Step = (value: unknown, timestamp: number | undefined) => void;

/** The key of the record being processed by the keyed head. */
interface CurrentKey {
  key: unknown;
  encoded: string;
  group: number;
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
    if (this.stage.keyed) this.setKey(value, inputStage!);
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

  private setKey(value: unknown, inputStage: string): void {
    const selector = this.keySelectors.get(inputStage);
    if (!selector) throw new InvariantError(`stage ${this.stage.id} has no keyed input from ${inputStage}`);
    const head = this.stage.operators[0]!.name;
    let encoded: string;
    let key: unknown;
    try {
      key = selector(value);
      encoded = encodeKey(key);
    } catch (e) {
      throw new UserFunctionError(`keyBy of ${head}`, e);
    }
    const group = keyGroupOf(encoded, this.io.maxParallelism);
    if (!inRange(this.io.keyGroups, group)) {
      throw new InvariantError(`key ${encoded} (key group ${group}) does not belong to this subtask of ${head}`);
    }
    this.current.key = key;
    this.current.encoded = encoded;
    this.current.group = group;
  }

  private step(op: OperatorNode, next: Step): Step {
    const spec: OperatorSpec = op.spec;
    const name = op.name;
    const fail = (e: unknown): never => {
      throw e instanceof UserFunctionError ? e : new UserFunctionError(name, e);
    };
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
            fail(e);
          }
          next(out, ts);
        };
      case 'filter':
        return (v, ts) => {
          let keep;
          try {
            keep = spec.fn(v);
          } catch (e) {
            fail(e);
          }
          if (keep) next(v, ts);
        };
      case 'flatMap':
        return (v, ts) => {
          let outs: unknown[];
          try {
            outs = [...spec.fn(v)];
          } catch (e) {
            return fail(e);
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
            out = acc === undefined ? v : spec.fn(acc, v);
          } catch (e) {
            fail(e);
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
            acc = spec.add(acc === undefined ? spec.create() : acc, v);
            out = spec.result(acc, cur.key);
          } catch (e) {
            fail(e);
          }
          ws.set(key, acc);
          next(out, ts);
        };
      }
      case 'process': {
        let timestamp: number | undefined;
        const state: Record<string, unknown> = {};
        for (const [stateName, decl] of Object.entries(spec.state)) {
          const entry = () => stateKeys.keyed(name, stateName, cur.group, cur.encoded);
          state[stateName] = decl.kind === 'value' ? valueState(ws, entry) : mapState(ws, entry);
        }
        const ctx: ProcessContext = {
          get key() {
            return cur.key;
          },
          get timestamp() {
            return timestamp;
          },
          state,
          emit: (value, ts) => next(value, ts ?? timestamp),
        };
        return (v, ts) => {
          timestamp = ts;
          try {
            spec.fn(v, ctx);
          } catch (e) {
            fail(e);
          }
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
        });
        this.windows.push(window);
        return (v, ts) => window.onRecord(v, ts, cur.encoded, cur.group);
      }
    }
  }
}

function valueState(ws: WorkingState, entry: () => string) {
  return {
    value: () => ws.get(entry()),
    update: (v: unknown) => {
      if (v === undefined) ws.delete(entry());
      else ws.set(entry(), v);
    },
    clear: () => ws.delete(entry()),
  };
}

function mapState(ws: WorkingState, entry: () => string) {
  const read = () => ws.get<Record<string, unknown>>(entry());
  return {
    get: (k: unknown) => read()?.[encodeKey(k)],
    contains: (k: unknown) => read()?.[encodeKey(k)] !== undefined,
    put(k: unknown, v: unknown) {
      const key = entry();
      const map = ws.get<Record<string, unknown>>(key) ?? {};
      map[encodeKey(k)] = v;
      ws.set(key, map);
    },
    remove(k: unknown) {
      const key = entry();
      const map = ws.get<Record<string, unknown>>(key);
      if (!map) return;
      delete map[encodeKey(k)];
      if (Object.keys(map).length === 0) ws.delete(key);
      else ws.touch(key);
    },
    keys: () => Object.keys(read() ?? {}).map(decodeKey),
    values: () => Object.values(read() ?? {}),
    entries: () => Object.entries(read() ?? {}).map(([k, v]) => [decodeKey(k), v] as [unknown, unknown]),
    isEmpty: () => Object.keys(read() ?? {}).length === 0,
    clear: () => ws.delete(entry()),
  };
}
