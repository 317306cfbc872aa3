/**
 * A keyed process function in a chain, of one input or of two (`connect`: the chain says which
 * input a record came on): its state handles, side outputs and event-time timers.
 *
 * One context serves every call: it reads the current key (set by the chain's keyed head, or
 * by a firing timer) and the record's timestamp. What a call emits, and the timers it
 * registers or deletes, take effect only once it returned, so a call that throws — and is
 * skipped (`onUserError: 'dead-letter'`) — leaves nothing behind; its state changes are undone
 * by the journal. A timer firing is no one record's doing: its errors fail over, naming the
 * timer and key, as a window firing's do.
 */
import { UserFunctionError } from '../core/errors.js';
import type { OperatorSpec, ProcessContext, TimeDomain } from '../core/graph.js';
import { decodeKey, type KeyGroupRange } from '../core/keygroups.js';
import { KEYED_STATE, stateKeys } from '../core/wire/state-keys.js';
import { broadcastHandles } from './broadcast-state.js';
import { CallOutputs, type CallOutputsIO } from './call-outputs.js';
import { EventTimers } from './event-timers.js';
import { stateHandle, StateJournal } from './keyed-state.js';
import { expire, ttlStateHandle, type TtlClock } from './ttl-state.js';
import type { WorkingState } from './working-state.js';

/** Where what it emits goes (next, out: CallOutputsIO), and the rest it needs. */
export interface ProcessIO extends CallOutputsIO {
  readonly ws: WorkingState;
  readonly keyGroups: KeyGroupRange;
  /** The key being processed, and whether the record came on a connected function's second
   *  input; a firing timer sets the key too. */
  readonly current: { key: unknown; encoded: string; group: number; readonly second: boolean };
  readonly watermark: () => number;
  /** The subtask's recorded processing time. */
  readonly processingTime: () => number;
  /** Calls are undone when they throw (dead-letter): keep a journal. */
  readonly skips: boolean;
  /** The function threw on `record`. */
  readonly threw: (error: unknown, record: unknown) => void;
}

type TimerChange = [time: number, register: boolean, domain: TimeDomain];

export class ProcessOperator {
  private timestamp: number | undefined;
  private readonly outputs: CallOutputs;
  private timerChanges: TimerChange[] = [];
  /** Cleanup times the call's writes of state with a ttl asked for (ttl-state.ts). */
  private cleanups: [time: number, domain: TimeDomain][] = [];
  private readonly journal: StateJournal | null;
  private readonly timers: EventTimers;
  private readonly processingTimers: EventTimers;
  /** The clock of the timer firing now (`ctx.timeDomain`), none in a record's call. */
  private domain: TimeDomain | undefined;
  /** Cleanup timers of state with a ttl: no user call, kept apart from the function's timers. */
  private readonly cleanupTimers: EventTimers;
  /** Those of state with a ttl in processing time. */
  private readonly processingCleanupTimers: EventTimers;
  private readonly ctx: ProcessContext;
  /** The context of a broadcast record's call (broadcast state): no key, no timers. */
  private readonly broadcastCtx: ProcessContext | null;

  constructor(
    private readonly name: string,
    private readonly spec: Extract<OperatorSpec, { kind: 'process' }>,
    private readonly io: ProcessIO,
  ) {
    this.journal = io.skips ? new StateJournal(io.ws) : null;
    this.outputs = new CallOutputs(name, spec.sideOutputs, io);
    this.timers = new EventTimers(io.ws, name, io.keyGroups);
    this.processingTimers = new EventTimers(io.ws, name, io.keyGroups, KEYED_STATE.processingTimers);
    this.cleanupTimers = new EventTimers(io.ws, name, io.keyGroups, KEYED_STATE.ttlTimers);
    this.processingCleanupTimers = new EventTimers(io.ws, name, io.keyGroups, KEYED_STATE.processingTtlTimers);
    const broadcast = spec.broadcastState ? broadcastHandles(io.ws, name, spec.broadcastState, this.journal) : null;
    this.ctx = this.context(broadcast?.readOnly ?? {});
    this.broadcastCtx = broadcast && this.broadcastContext(broadcast.writable);
  }

  onRecord(value: unknown, timestamp: number | undefined): void {
    this.begin(timestamp);
    try {
      if (!this.io.current.second) this.spec.fn(value, this.ctx);
      else this.spec.fn2!(value, this.broadcastCtx ?? this.ctx);
    } catch (e) {
      this.journal?.rollback();
      return this.io.threw(e, value);
    }
    this.journal?.end();
    this.finish();
  }

  /** Fires the timers the watermark reached, in order (event-timers.ts). */
  onWatermark(watermark: number): void {
    this.fireTimers(watermark);
    this.cleanUp(this.cleanupTimers, 'event-time', watermark);
  }

  /** Drops, for the keys whose cleanup timers `now` reached, what of their state on that clock died. */
  private cleanUp(timers: EventTimers, domain: TimeDomain, now: number): void {
    timers.fireDue(now, (_time, encodedKey, group) => {
      for (const [stateName, decl] of Object.entries(this.spec.state)) {
        if (decl.ttl?.domain === domain) expire(this.io.ws, { ...decl, ttl: decl.ttl }, stateKeys.keyed(this.name, stateName, group, encodedKey), now);
      }
    });
  }

  /** Fires the processing-time timers `time` reached, in order. */
  onProcessingTime(time: number): void {
    this.fire(this.processingTimers, time, 'processing-time');
    this.cleanUp(this.processingCleanupTimers, 'processing-time', time);
  }

  private fireTimers(watermark: number): void {
    this.fire(this.timers, watermark, 'event-time');
  }

  private fire(timers: EventTimers, upTo: number, domain: TimeDomain): void {
    const onTimer = this.spec.onTimer;
    if (!onTimer) return;
    timers.fireDue(upTo, (time, encodedKey, group) => {
      const cur = this.io.current;
      cur.key = decodeKey(encodedKey);
      cur.encoded = encodedKey;
      cur.group = group;
      // A processing-time timer's output carries no event time of its own but the watermark's.
      this.begin(domain === 'event-time' ? time : undefined);
      this.domain = domain;
      try {
        onTimer(time, this.ctx);
      } catch (e) {
        throw UserFunctionError.threw(this.name, e, { timer: time, key: cur.key });
      } finally {
        this.domain = undefined;
      }
      this.journal?.end();
      this.finish();
    });
  }

  private begin(timestamp: number | undefined): void {
    this.timestamp = timestamp;
    this.outputs.clear();
    this.timerChanges = [];
    this.cleanups = [];
    this.journal?.begin();
  }

  /** The call returned: what it emitted goes on, its timers are set. */
  private finish(): void {
    const { encoded, group } = this.io.current;
    for (const [time, register, domain] of this.timerChanges) {
      const timers = domain === 'event-time' ? this.timers : this.processingTimers;
      if (register) timers.schedule(time, encoded, group);
      else timers.cancel(time, encoded, group);
    }
    for (const [time, domain] of this.cleanups) (domain === 'event-time' ? this.cleanupTimers : this.processingCleanupTimers).schedule(time, encoded, group);
    this.outputs.passOn();
  }

  /** A broadcast record's call: the keyed context's emits and side outputs, the broadcast
   *  state writable, and no key — its keyed state and timers are an error to touch. */
  private broadcastContext(broadcastState: Record<string, unknown>): ProcessContext {
    const noKey = (what: string) => () => {
      throw UserFunctionError.invalid(this.name, `processBroadcastElement has no key: ${what} belong to processElement and onTimer`, null);
    };
    const keyed = this.ctx;
    return {
      key: undefined,
      get timestamp() {
        return keyed.timestamp;
      },
      get state(): Record<string, unknown> {
        return noKey('keyed state')();
      },
      emit: keyed.emit,
      output: keyed.output,
      timerService: {
        currentWatermark: keyed.timerService.currentWatermark,
        registerEventTimeTimer: noKey('timers'),
        deleteEventTimeTimer: noKey('timers'),
        currentProcessingTime: keyed.timerService.currentProcessingTime,
        registerProcessingTimeTimer: noKey('timers'),
        deleteProcessingTimeTimer: noKey('timers'),
      },
      broadcastState,
    };
  }

  private context(broadcastState: Record<string, unknown>): ProcessContext {
    const { ws, current: cur } = this.io;
    const state: Record<string, unknown> = {};
    const clocks: Record<TimeDomain, TtlClock> = {
      'event-time': { now: () => this.timestamp ?? this.io.watermark(), watermark: this.io.watermark, schedule: (t) => void this.cleanups.push([t, 'event-time']) },
      'processing-time': { now: this.io.processingTime, watermark: this.io.processingTime, schedule: (t) => void this.cleanups.push([t, 'processing-time']) },
    };
    for (const [stateName, decl] of Object.entries(this.spec.state)) {
      const entry = () => stateKeys.keyed(this.name, stateName, cur.group, cur.encoded);
      state[stateName] = decl.ttl ? ttlStateHandle(ws, { ...decl, ttl: decl.ttl }, entry, this.journal, clocks[decl.ttl.domain]) : stateHandle(ws, decl, entry, this.journal);
    }
    const time = (t: unknown): number => {
      if (typeof t !== 'number' || !Number.isFinite(t)) throw UserFunctionError.invalid(this.name, `a timer needs a finite time, got ${String(t)}`, null);
      return t;
    };
    const self = this;
    return {
      get key() {
        return cur.key;
      },
      get timestamp() {
        return self.timestamp;
      },
      state,
      emit: (value, ts) => this.outputs.emit(value, ts ?? this.timestamp),
      output: (tag, value, ts) => this.outputs.output(tag, value, ts ?? this.timestamp),
      timerService: {
        currentWatermark: () => this.io.watermark(),
        registerEventTimeTimer: (t) => void this.timerChanges.push([time(t), true, 'event-time']),
        deleteEventTimeTimer: (t) => void this.timerChanges.push([time(t), false, 'event-time']),
        currentProcessingTime: () => this.io.processingTime(),
        registerProcessingTimeTimer: (t) => void this.timerChanges.push([time(t), true, 'processing-time']),
        deleteProcessingTimeTimer: (t) => void this.timerChanges.push([time(t), false, 'processing-time']),
      },
      broadcastState,
      get timeDomain() {
        return self.domain;
      },
    };
  }
}
