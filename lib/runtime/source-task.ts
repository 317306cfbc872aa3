/**
 * A source subtask's side of the protocol: `poll` (its self-scheduled read: records, the
 * source watermark, end of input, the next poll) and `trigger` (a checkpoint begins here:
 * offsets into the snapshot, barriers out). Reads depend only on the offset in working state
 * and what the poll carries, so a retried poll emits exactly the same envelopes.
 *
 * The task keeps the source's own state (offset, round, rate limiting) and returns the rest
 * as `SourceAction`s in the order they must be carried out, which the subtask invocation
 * runs through its chain, router and sinks: the task knows nothing of the invocation.
 *
 * What the reader's own code throws (a generator's `make`, a timestamp function, a custom
 * reader) is a `UserFunctionError` naming the source and the position it read from, and
 * fails over at once, whatever `onUserError` says: a source cannot skip a position it cannot
 * read. What storage throws keeps its own classification (see `readerFailure`).
 */
import type { Effect } from '../core/effects.js';
import { MalformedEnvelopeError, TidemarkError, UserFunctionError, type FailedInput } from '../core/errors.js';
import type { PollEnvelope, TriggerEnvelope } from '../core/wire/envelope.js';
import type { JobGraph, OperatorSpec, SourceBatch, SourceIo } from '../core/graph.js';
import type { SubtaskRef } from '../core/ids.js';
import { stateKeys } from '../core/wire/state-keys.js';
import { blobKeys, partNames } from '../core/wire/storage-keys.js';
import { sourceDeadLetterBody } from '../core/wire/blob-bodies.js';
import { dedupIds } from '../core/wire/dedup-ids.js';
import { messageGroupOf, type StageTopology } from '../core/topology.js';
import { MAX_WATERMARK, MIN_WATERMARK, sourceWatermark, type ChannelWatermark } from '../core/watermarks.js';
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

/** What a trigger or a poll leaves the invocation to do, in this order. */
export type SourceAction =
  /** Records read: through the chain, counted as progress. */
  | { readonly kind: 'emit'; readonly values: readonly unknown[]; readonly timestamps?: readonly number[] }
  /** The subtask's watermark is now the source's. */
  | { readonly kind: 'watermark'; readonly wm: number }
  /** The end of the poll's input: stage sink output as `part`, send the buffers, the
   *  watermark (when there is one and it moved) riding on them. */
  | { readonly kind: 'end-of-input'; readonly part: string; readonly watermark: ChannelWatermark | null }
  | { readonly kind: 'forward-watermark'; readonly watermark: ChannelWatermark }
  /** End of input on every output channel. */
  | { readonly kind: 'broadcast-end' }
  /** The source read its last record: the chain after it hears of the end of its input. */
  | { readonly kind: 'finish-input' }
  /** A checkpoint begins here: snapshot (offsets), ack, barriers out. */
  | { readonly kind: 'snapshot'; readonly checkpoint: number; readonly savepoint: boolean }
  | { readonly kind: 'save'; readonly state: SourceState }
  | { readonly kind: 'effect'; readonly effect: Effect };

type SourceSpec = Extract<OperatorSpec, { kind: 'source' }>;

const SOURCE_FINISHED: SourceAction = { kind: 'effect', effect: { kind: 'source-finished' } };

export class SourceTask {
  constructor(
    private readonly graph: JobGraph,
    private readonly stage: StageTopology,
    private readonly ref: SubtaskRef,
    private readonly ws: WorkingState,
    private readonly io: SourceIo,
  ) {}

  /** The source's state; created (at the reader's start offset) on first use. */
  state(): SourceState {
    const key = stateKeys.source(this.stage.id);
    let s = this.ws.get<SourceState>(key);
    if (s === undefined) {
      const offset = this.head().reader.start(this.ref.index, this.stage.parallelism);
      s = { offset, round: 0, lastTrigger: 0, finished: false, stopped: false, idle: false, rateAt: 0, rateEmitted: 0, emitted: 0, maxTs: MIN_WATERMARK, activeAt: 0 };
      this.ws.set(key, s);
    }
    return s as SourceState;
  }

  save(s: SourceState): void {
    this.ws.set(stateKeys.source(this.stage.id), s);
  }

  private head(): SourceSpec {
    const head = this.stage.operators[0]!.spec;
    if (head.kind !== 'source') throw new MalformedEnvelopeError('invalid-field', `${this.stage.id} is not a source`);
    return head;
  }

  /** A trigger seen before is ignored. The snapshot holds the source as it was at the
   *  trigger; stop-with-savepoint stops it only after that. */
  trigger(env: TriggerEnvelope): SourceAction[] {
    const s = { ...this.state() };
    if (env.cp <= s.lastTrigger) return [];
    s.lastTrigger = env.cp;
    const actions: SourceAction[] = [{ kind: 'save', state: s }, { kind: 'snapshot', checkpoint: env.cp, savepoint: env.sp === true }];
    if (env.stop) actions.push({ kind: 'save', state: { ...s, stopped: true } });
    return actions;
  }

  /** A poll of another round (a duplicate, or one of before a restore) is ignored. */
  async poll(env: PollEnvelope): Promise<SourceAction[]> {
    const head = this.head();
    const s = { ...this.state() };
    if (env.round !== s.round) return [];
    s.round++;
    if (env.start) {
      s.rateAt = env.at;
      s.rateEmitted = s.emitted;
      s.activeAt = env.at;
    }
    if (s.finished) {
      // A restored finished source re-announces end of input to the new generation.
      const again: SourceAction[] = [{ kind: 'forward-watermark', watermark: { wm: MAX_WATERMARK, idle: false } }, { kind: 'broadcast-end' }];
      return [...(env.start ? [...again, SOURCE_FINISHED] : []), { kind: 'save', state: s }];
    }
    if (s.stopped) return [{ kind: 'save', state: s }];

    let n = Math.min(head.batchSize, env.max);
    const perSubtask = head.rate === undefined ? undefined : head.rate / this.stage.parallelism;
    if (perSubtask !== undefined) {
      // Records allowed by the poll's time: one at the start, then `rate` per second.
      const allowed = Math.floor(((env.at - s.rateAt) * perSubtask) / 1000) + 1;
      n = Math.max(0, Math.min(n, allowed - (s.emitted - s.rateEmitted)));
    }
    const actions = n > 0 ? await this.read(head, s, env, n) : [];
    actions.push({ kind: 'save', state: s });
    if (!s.finished) actions.push(this.nextPoll(s, env, perSubtask));
    return actions;
  }

  /** Reads up to `n` records into `s` (updated in place) and says what they lead to. */
  private async read(head: SourceSpec, s: SourceState, env: PollEnvelope, n: number): Promise<SourceAction[]> {
    const fromIo = new Set<unknown>();
    let batch: SourceBatch;
    try {
      batch = await head.reader.read(this.ref.index, this.stage.parallelism, s.offset, n, notingFailures(this.io, fromIo), env.limits);
    } catch (e) {
      throw readerFailure(this.stage.operators[0]!.name, e, { position: s.offset }, fromIo);
    }
    const actions: SourceAction[] = batch.rejected?.length ? this.deadLetter(batch.rejected) : [];
    for (const key of batch.markers ?? []) actions.push({ kind: 'effect', effect: { kind: 'blob', key: blobKeys.jobObject(this.graph.name, key), body: '' } });
    const ts = batch.timestamps;
    actions.push({ kind: 'emit', values: batch.values, ...(ts ? { timestamps: ts } : {}) });
    if (ts) for (const t of ts) if (t > s.maxTs) s.maxTs = t;
    if (batch.values.length > 0) s.activeAt = env.at;
    let watermark: ChannelWatermark | null = { wm: MAX_WATERMARK, idle: false };
    if (!batch.finished) {
      watermark = this.sourceWatermark(head, s, env.at);
      if (watermark) actions.push({ kind: 'watermark', wm: watermark.wm });
    }
    if (batch.finished) actions.push({ kind: 'finish-input' });
    actions.push({ kind: 'end-of-input', part: partNames.poll(env.round), watermark });
    s.emitted += batch.values.length;
    s.offset = batch.next;
    if (batch.values.length > 0 && s.idle) actions.push({ kind: 'effect', effect: { kind: 'activity' } });
    s.idle = batch.values.length === 0 && !batch.finished;
    if (batch.finished) {
      s.finished = true;
      actions.push({ kind: 'broadcast-end' }, SOURCE_FINISHED);
    }
    return actions;
  }

  /** Input the source could not read goes to the job's dead-letter output, once per place it came from. */
  private deadLetter(rejected: NonNullable<SourceBatch['rejected']>): SourceAction[] {
    const source = this.stage.id;
    const counter = stateKeys.counter(source, 'deadLetters');
    this.ws.set(counter, (this.ws.get<number>(counter) ?? 0) + rejected.length);
    return rejected.map((r) => {
      const body = sourceDeadLetterBody({ source, where: r.where, reason: r.reason, text: r.text });
      return { kind: 'effect', effect: { kind: 'blob', key: blobKeys.deadLetter(this.graph.name, source, r.where), body } };
    });
  }

  /** The source's watermark after a poll: behind its largest timestamp by the strategy's
   *  out-of-orderness (never going back); idle once it has read nothing for the idleness timeout. */
  private sourceWatermark(head: SourceSpec, s: SourceState, at: number): ChannelWatermark | null {
    const strategy = head.watermarks;
    if (!strategy) return null;
    const idle = strategy.idleness !== undefined && at - s.activeAt >= strategy.idleness;
    const wm = Math.max(this.ws.get<number>(stateKeys.watermark) ?? MIN_WATERMARK, sourceWatermark(s.maxTs, strategy.outOfOrderness));
    return { wm, idle };
  }

  /** The next poll; when rate limited, not before the next record is due (the invocation
   *  waits for it, bounded, before sending it). */
  private nextPoll(s: SourceState, env: PollEnvelope, perSubtask: number | undefined): SourceAction {
    const notBefore = perSubtask === undefined ? undefined : s.rateAt + Math.ceil(((s.emitted - s.rateEmitted) * 1000) / perSubtask);
    return {
      kind: 'effect',
      effect: {
        kind: 'poll',
        queue: this.stage.queue,
        group: messageGroupOf(this.ref.index),
        round: s.round,
        dedupId: dedupIds.poll(this.ws.gen, this.ref.index, s.round),
        idle: s.idle,
        offset: s.offset,
        ...(notBefore === undefined || notBefore <= env.at ? {} : { notBefore }),
      },
    };
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
    getObjectBytes: (key) => noted(() => io.getObjectBytes(key)),
    listObjects: (prefix) => noted(() => io.listObjects(prefix)),
    readLog: (log, partition, from, below, max) => noted(() => io.readLog(log, partition, from, below, max)),
    logHead: (log, partition) => noted(() => io.logHead(log, partition)),
    listShards: (stream) => noted(() => io.listShards(stream)),
    readShard: (stream, shard, after, max) => noted(() => io.readShard(stream, shard, after, max)),
  };
}
