/**
 * A process function on a stream that is not keyed — of one input, or two (connect) — with operator state (Flink's
 * CheckpointedFunction list state): each subtask keeps its own lists, snapshotted with it;
 * a restore at another parallelism splits list state evenly over the new subtasks and gives
 * union list state whole to each (core/recovery.ts). No key, so no keyed state and no
 * timers; `endInput` runs once the subtask's input ended, so a function that buffers can
 * flush. As in a keyed function, what a call emits goes on only once it returned, and a call
 * that throws (and is skipped) leaves its state as it was.
 */
import { UserFunctionError } from '../core/errors.js';
import { sideOutputPort, type OperatorSpec, type OutputPort, type ProcessContext } from '../core/graph.js';
import { stateKeys } from '../core/wire/state-keys.js';
import { listState, StateJournal } from './keyed-state.js';
import type { RoutedPort } from './output-router.js';
import type { WorkingState } from './working-state.js';

export interface OperatorStateIO {
  readonly ws: WorkingState;
  /** Whether the record came on a connected function's second input. */
  readonly current: { readonly second: boolean };
  /** The rest of the chain (main output). */
  readonly next: (value: unknown, timestamp: number | undefined) => void;
  /** Other outputs, routed from this operator. */
  readonly out: (value: unknown, timestamp: number | undefined, fromOp: string, port: RoutedPort) => void;
  readonly watermark: () => number;
  readonly skips: boolean;
  readonly threw: (error: unknown, record: unknown) => void;
}

type Emitted = [unknown, number | undefined, OutputPort | null];

export class OperatorStateProcess {
  private timestamp: number | undefined;
  private emitted: Emitted[] = [];
  private readonly journal: StateJournal | null;
  private readonly ctx: ProcessContext;

  constructor(
    private readonly name: string,
    private readonly spec: Extract<OperatorSpec, { kind: 'process' }>,
    private readonly io: OperatorStateIO,
  ) {
    this.journal = io.skips ? new StateJournal(io.ws) : null;
    this.ctx = this.context();
  }

  onRecord(value: unknown, timestamp: number | undefined): void {
    this.timestamp = timestamp;
    this.emitted = [];
    this.journal?.begin();
    try {
      if (this.io.current.second) this.spec.fn2!(value, this.ctx);
      else this.spec.fn(value, this.ctx);
    } catch (e) {
      this.journal?.rollback();
      return this.io.threw(e, value);
    }
    this.journal?.end();
    this.passOn();
  }

  /** The input ended: no record's doing, so its errors fail over, naming the operator. */
  endInput(): void {
    const endInput = this.spec.endInput;
    if (!endInput) return;
    this.timestamp = undefined;
    this.emitted = [];
    try {
      endInput(this.ctx);
    } catch (e) {
      throw UserFunctionError.threw(this.name, e, null, 'endInput');
    }
    this.passOn();
  }

  private passOn(): void {
    for (const [value, at, port] of this.emitted) {
      if (port === null) this.io.next(value, at);
      else this.io.out(value, at, this.name, port);
    }
  }

  private context(): ProcessContext {
    const state: Record<string, unknown> = {};
    for (const [stateName, decl] of Object.entries(this.spec.state)) {
      const entry = stateKeys.operatorList(this.name, stateName, decl.kind === 'union');
      state[stateName] = listState(this.io.ws, () => entry, this.journal);
    }
    const declared = new Set(this.spec.sideOutputs ?? []);
    const noKey = () => {
      throw UserFunctionError.invalid(this.name, 'timers need a key: this stream is not keyed (keyBy first)', null);
    };
    const self = this;
    return {
      key: undefined,
      get timestamp() {
        return self.timestamp;
      },
      state,
      emit: (value, ts) => void this.emitted.push([value, ts ?? this.timestamp, null]),
      output: (tag, value, ts) => {
        if (!declared.has(tag)) throw UserFunctionError.invalid(this.name, `emitted to side output ${JSON.stringify(tag)}, which it does not declare in sideOutputs`, null);
        this.emitted.push([value, ts ?? this.timestamp, sideOutputPort(tag)]);
      },
      timerService: { currentWatermark: () => this.io.watermark(), registerEventTimeTimer: noKey, deleteEventTimeTimer: noKey },
      broadcastState: {},
    };
  }
}
