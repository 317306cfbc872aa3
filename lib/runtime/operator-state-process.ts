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
import type { OperatorSpec, ProcessContext } from '../core/graph.js';
import { stateKeys } from '../core/wire/state-keys.js';
import { CallOutputs, type CallOutputsIO } from './call-outputs.js';
import { listState, StateJournal } from './keyed-state.js';
import type { WorkingState } from './working-state.js';

/** Where what it emits goes (next, out: CallOutputsIO), and the rest it needs. */
export interface OperatorStateIO extends CallOutputsIO {
  readonly ws: WorkingState;
  /** Whether the record came on a connected function's second input. */
  readonly current: { readonly second: boolean };
  readonly watermark: () => number;
  readonly processingTime: () => number;
  readonly skips: boolean;
  readonly threw: (error: unknown, record: unknown) => void;
}

export class OperatorStateProcess {
  private timestamp: number | undefined;
  private readonly outputs: CallOutputs;
  private readonly journal: StateJournal | null;
  private readonly ctx: ProcessContext;

  constructor(
    private readonly name: string,
    private readonly spec: Extract<OperatorSpec, { kind: 'process' }>,
    private readonly io: OperatorStateIO,
  ) {
    this.journal = io.skips ? new StateJournal(io.ws) : null;
    this.outputs = new CallOutputs(name, spec.sideOutputs, io);
    this.ctx = this.context();
  }

  onRecord(value: unknown, timestamp: number | undefined): void {
    this.timestamp = timestamp;
    this.outputs.clear();
    this.journal?.begin();
    try {
      if (this.io.current.second) this.spec.fn2!(value, this.ctx);
      else this.spec.fn(value, this.ctx);
    } catch (e) {
      this.journal?.rollback();
      return this.io.threw(e, value);
    }
    this.journal?.end();
    this.outputs.passOn();
  }

  /** The input ended: no record's doing, so its errors fail over, naming the operator. */
  endInput(): void {
    const endInput = this.spec.endInput;
    if (!endInput) return;
    this.timestamp = undefined;
    this.outputs.clear();
    try {
      endInput(this.ctx);
    } catch (e) {
      throw UserFunctionError.threw(this.name, e, null, 'endInput');
    }
    this.outputs.passOn();
  }

  private context(): ProcessContext {
    const state: Record<string, unknown> = {};
    for (const [stateName, decl] of Object.entries(this.spec.state)) {
      const entry = stateKeys.operatorList(this.name, stateName, decl.kind === 'union');
      state[stateName] = listState(this.io.ws, () => entry, this.journal);
    }
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
      emit: (value, ts) => this.outputs.emit(value, ts ?? this.timestamp),
      output: (tag, value, ts) => this.outputs.output(tag, value, ts ?? this.timestamp),
      timerService: {
        currentWatermark: () => this.io.watermark(),
        registerEventTimeTimer: noKey,
        deleteEventTimeTimer: noKey,
        currentProcessingTime: () => this.io.processingTime(),
        registerProcessingTimeTimer: noKey,
        deleteProcessingTimeTimer: noKey,
      },
      broadcastState: {},
    };
  }
}
