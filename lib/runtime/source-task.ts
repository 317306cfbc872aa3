/**
 * A source subtask's side of the protocol: `poll` (its self-scheduled read: records, the
 * source watermark, end of input, the next poll) and `trigger` (a checkpoint begins here:
 * offsets into the snapshot, barriers out). Reads depend only on the offset in working state
 * and what the poll carries, so a retried poll emits exactly the same envelopes.
 *
 * What the reader's own code throws (a generator's `make`, a timestamp function, a custom
 * reader) is a `UserFunctionError` naming the source and the position it read from, and
 * fails over at once, whatever `onUserError` says: a source cannot skip a position it cannot
 * read. What storage throws keeps its own classification (see `readerFailure`).
 */
import { MalformedEnvelopeError, TidemarkError, UserFunctionError, type FailedInput } from '../core/errors.js';
import type { PollEnvelope, TriggerEnvelope } from '../core/envelope.js';
import type { JobGraph, SourceBatch, SourceIo, SourceReader } from '../core/graph.js';
import type { SubtaskRef } from '../core/ids.js';
import { stateKeys } from '../core/state-keys.js';
import { blobKeys } from '../core/storage-keys.js';
import { messageGroupOf, type StageTopology } from '../core/topology.js';
import { MAX_WATERMARK, MIN_WATERMARK, sourceWatermark, type ChannelWatermark, type WatermarkStrategy } from '../core/watermarks.js';
import type { EffectLog } from './effects.js';
import type { OperatorChain } from './operator-chain.js';
import type { OutputRouter } from './output-router.js';
import type { WorkingState } from './working-state.js';

export interface SourceState {
  offset: unknown;
  round: number;
  lastTrigger: number;
  finished: boolean;
  stopped: boolean;
  idle: boolean;
  /** Rate limiting restarts from (time, records emitted) at each generation's first poll. */
  rateAt: number;
  rateEmitted: number;
  emitted: number;
  /** Largest event timestamp read, and when (poll time) records last came: watermarks, idleness. */
  maxTs: number;
  activeAt: number;
}

/** What the subtask invocation lends its source. */
export interface SourceHost {
  readonly graph: JobGraph;
  readonly stage: StageTopology;
  readonly ref: SubtaskRef;
  readonly ws: WorkingState;
  readonly effects: EffectLog;
  readonly router: OutputRouter;
  readonly chain: OperatorChain;
  readonly io: SourceIo;
  addProgress(n: number): void;
  endOfInput(part: string, watermark: ChannelWatermark | null): void;
  forwardWatermark(w: ChannelWatermark): boolean;
  snapshot(checkpoint: number, alignmentMs: number): void;
}

export class SourceTask {
  constructor(private readonly host: SourceHost) {}

  state(): SourceState {
    const key = stateKeys.source(this.host.stage.id);
    let s = this.host.ws.get<SourceState>(key);
    if (s === undefined) {
      const reader = this.reader();
      s = {
        offset: reader.start(this.host.ref.index, this.host.stage.parallelism),
        round: 0,
        lastTrigger: 0,
        finished: false,
        stopped: false,
        idle: false,
        rateAt: 0,
        rateEmitted: 0,
        emitted: 0,
        maxTs: MIN_WATERMARK,
        activeAt: 0,
      };
      this.host.ws.set(key, s);
    }
    return s as SourceState;
  }

  private save(s: SourceState): void {
    this.host.ws.set(stateKeys.source(this.host.stage.id), s);
  }

  private reader(): SourceReader {
    const head = this.host.stage.operators[0]!.spec;
    if (head.kind !== 'source') throw new MalformedEnvelopeError('invalid-field', `${this.host.stage.id} is not a source`);
    return head.reader;
  }

  /** Input the source could not read goes to the job's dead-letter output, once per place it came from. */
  private deadLetter(rejected: NonNullable<SourceBatch['rejected']>): void {
    const source = this.host.stage.id;
    for (const r of rejected) {
      const body = JSON.stringify({ source, where: r.where, reason: r.reason, text: r.text });
      this.host.effects.add({ kind: 'blob', key: blobKeys.deadLetter(this.host.graph.name, source, r.where), body });
    }
    const counter = stateKeys.counter(source, 'deadLetters');
    this.host.ws.set(counter, (this.host.ws.get<number>(counter) ?? 0) + rejected.length);
  }

  /** The source's watermark after a poll: behind its largest timestamp by the strategy's
   *  out-of-orderness; idle once it has read nothing for the idleness timeout. */
  private sourceWatermark(strategy: WatermarkStrategy | undefined, s: SourceState, at: number): ChannelWatermark | null {
    if (!strategy) return null;
    const idle = strategy.idleness !== undefined && at - s.activeAt >= strategy.idleness;
    const wm = Math.max(this.host.ws.get<number>(stateKeys.watermark) ?? MIN_WATERMARK, sourceWatermark(s.maxTs, strategy.outOfOrderness));
    this.host.ws.set(stateKeys.watermark, wm);
    return { wm, idle };
  }

  onTrigger(env: TriggerEnvelope): void {
    const s = { ...this.state() };
    if (env.cp <= s.lastTrigger) return;
    s.lastTrigger = env.cp;
    this.save(s);
    this.host.snapshot(env.cp, 0);
    if (env.stop) this.save({ ...s, stopped: true });
  }

  async onPoll(env: PollEnvelope): Promise<void> {
    const head = this.host.stage.operators[0]!.spec;
    if (head.kind !== 'source') throw new MalformedEnvelopeError('invalid-field', `${this.host.stage.id} is not a source`);
    const s = { ...this.state() };
    if (env.round !== s.round) return;
    s.round++;
    if (env.start) {
      s.rateAt = env.at;
      s.rateEmitted = s.emitted;
      s.activeAt = env.at;
    }
    if (s.finished) {
      // A restored finished source re-announces end of input to the new generation.
      if (env.start) {
        this.host.forwardWatermark({ wm: MAX_WATERMARK, idle: false });
        this.host.router.broadcast('end');
        this.host.effects.add({ kind: 'source-finished' });
      }
      this.save(s);
      return;
    }
    if (s.stopped) return this.save(s);

    let n = Math.min(head.batchSize, env.max);
    const perSubtask = head.rate === undefined ? undefined : head.rate / this.host.stage.parallelism;
    if (perSubtask !== undefined) {
      // Records allowed by the poll's time: one at the start, then `rate` per second.
      const allowed = Math.floor(((env.at - s.rateAt) * perSubtask) / 1000) + 1;
      n = Math.max(0, Math.min(n, allowed - (s.emitted - s.rateEmitted)));
    }
    if (n > 0) {
      const fromIo = new Set<unknown>();
      let batch: SourceBatch;
      try {
        batch = await head.reader.read(this.host.ref.index, this.host.stage.parallelism, s.offset, n, notingFailures(this.host.io, fromIo), env.limits);
      } catch (e) {
        throw readerFailure(this.host.stage.operators[0]!.name, e, { position: s.offset }, fromIo);
      }
      if (batch.rejected?.length) this.deadLetter(batch.rejected);
      const ts = batch.timestamps;
      for (let i = 0; i < batch.values.length; i++) this.host.chain.push(batch.values[i], ts?.[i]);
      this.host.addProgress(batch.values.length);
      if (ts) for (const t of ts) if (t > s.maxTs) s.maxTs = t;
      if (batch.values.length > 0) s.activeAt = env.at;
      this.host.endOfInput(`poll@${env.round}`, batch.finished ? { wm: MAX_WATERMARK, idle: false } : this.sourceWatermark(head.watermarks, s, env.at));
      s.emitted += batch.values.length;
      s.offset = batch.next;
      if (batch.values.length > 0 && s.idle) this.host.effects.add({ kind: 'activity' });
      s.idle = batch.values.length === 0 && !batch.finished;
      if (batch.finished) {
        s.finished = true;
        this.host.router.broadcast('end');
        this.host.effects.add({ kind: 'source-finished' });
      }
    }
    this.save(s);
    if (!s.finished) {
      // When the next record is due; the invocation waits for it (bounded) before re-polling.
      const notBefore = perSubtask === undefined ? undefined : s.rateAt + Math.ceil(((s.emitted - s.rateEmitted) * 1000) / perSubtask);
      this.host.effects.add({
        kind: 'poll',
        queue: this.host.stage.queue,
        group: messageGroupOf(this.host.ref.index),
        round: s.round,
        dedupId: `${this.host.ws.gen}:poll:${this.host.ref.index}:${s.round}`,
        idle: s.idle,
        offset: s.offset,
        ...(notBefore === undefined || notBefore <= env.at ? {} : { notBefore }),
      });
    }
  }
}

/**
 * What a reader's call threw, as it goes on. A `TidemarkError` (a transient storage failure,
 * an item too large, …) and whatever one of its `io` calls failed with (`fromIo`, see
 * `notingFailures`: such as an adapter's unclassified `AwsRequestError`, which the runtime
 * does not know by name) keep their own classification; anything else came from the
 * reader's own code and is the source operator's `UserFunctionError` on `on`. `fn` names
 * the reader's function when it is not the read (`start`, `limits`).
 */
export function readerFailure(operator: string, e: unknown, on: FailedInput | null, fromIo?: ReadonlySet<unknown>, fn?: string): unknown {
  if (e instanceof TidemarkError || fromIo?.has(e)) return e;
  return UserFunctionError.threw(operator, e, on, fn);
}

/** `io` that adds what each of its calls fails with to `failures`. */
export function notingFailures(io: SourceIo, failures: Set<unknown>): SourceIo {
  const noted = <R>(call: () => Promise<R>): Promise<R> => {
    const fail = (e: unknown): never => {
      failures.add(e);
      throw e;
    };
    try {
      return call().catch(fail);
    } catch (e) {
      return fail(e);
    }
  };
  return {
    getObject: (key) => noted(() => io.getObject(key)),
    listObjects: (prefix) => noted(() => io.listObjects(prefix)),
    readLog: (log, partition, from, below, max) => noted(() => io.readLog(log, partition, from, below, max)),
    logHead: (log, partition) => noted(() => io.logHead(log, partition)),
  };
}
