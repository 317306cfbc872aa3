/**
 * One invocation's work for one subtask: takes the group's envelopes in order and applies
 * the exactly-once rules (DESIGN §4–5) to the working state, collecting effects to execute
 * afterwards. Nothing here does I/O except a source reading its input.
 *
 * - generation fencing: envelopes of an older generation are dropped;
 * - sequence dedup: per input channel, an envelope at or below the last applied seq is
 *   dropped, one that skips ahead means a message was lost (terminal);
 * - barrier alignment with the buffer in working state, snapshot, ack, barrier forwarding;
 * - sources: polls (self-scheduled reads), triggers (offsets snapshot + barriers);
 * - sinks: output staged per input envelope, sealed per checkpoint, committed on `commit`.
 */
import { INITIAL_ALIGNMENT, isBlocked, onBarrier, type AlignmentState } from '../core/alignment.js';
import {
  isChannelEnvelope,
  recordsJsonOf,
  type ChannelEnvelope,
  type CommitEnvelope,
  type Envelope,
  type PollEnvelope,
  type TriggerEnvelope,
} from '../core/envelope.js';
import { LostMessageError, MalformedEnvelopeError, NotYetRestoredError } from '../core/errors.js';
import type { JobGraph, SourceBatch, SourceIo, SourceReader } from '../core/graph.js';
import { channelId, checkpointId, subtaskKey, type ChannelId, type SubtaskRef } from '../core/ids.js';
import { stateKeys, isSnapshotted } from '../core/state-keys.js';
import {
  combineWatermarks,
  MAX_WATERMARK,
  MIN_WATERMARK,
  sourceWatermark,
  type ChannelWatermark,
  type WatermarkStrategy,
} from '../core/watermarks.js';
import { blobKeys } from '../core/storage-keys.js';
import { inputChannels, keyGroupsOf, messageGroupOf, type StageTopology, type Topology } from '../core/topology.js';
import type { EffectLog } from './effects.js';
import { OperatorChain } from './operator-chain.js';
import { OutputRouter } from './output-router.js';
import { encodeSnapshot } from './snapshot.js';
import type { WorkingState } from './working-state.js';

/** Test-only switches that disable one exactly-once mechanism, to prove the simulation catches it. */
export interface UnsafeSwitches {
  readonly skipDedup?: boolean;
  readonly skipFencing?: boolean;
  readonly skipAlignmentBuffer?: boolean;
}

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

interface Buffered {
  readonly ch: ChannelId;
  readonly env: ChannelEnvelope;
}

export class SubtaskInvocation {
  private readonly ref: SubtaskRef;
  private readonly inputs: ReadonlySet<string>;
  private readonly inputList: string[];
  /** Channel → the upstream subtask (`stage.index`) whose watermark it carries. */
  private readonly upstreamOf = new Map<string, string>();
  private readonly router: OutputRouter;
  private readonly chain: OperatorChain;
  private readonly sinkOps: string[];
  /** The stage is just a sink: it stages the buffers it receives as they are, unparsed. */
  private readonly sinkOnly: boolean;
  private readonly staged = new Map<string, unknown[]>();
  /** Records this invocation took in (sources: read) and handed to sinks; for progress displays. */
  readonly counts = { recordsIn: 0, recordsToSinks: 0 };

  constructor(
    private readonly graph: JobGraph,
    topology: Topology,
    private readonly stage: StageTopology,
    index: number,
    private readonly ws: WorkingState,
    private readonly effects: EffectLog,
    private readonly now: number,
    private readonly io: SourceIo,
    private readonly unsafe: UnsafeSwitches = {},
  ) {
    this.ref = { stage: stage.id, index };
    const channels = inputChannels(topology, this.ref);
    this.inputList = channels.map((c) => c.id);
    this.inputs = new Set(this.inputList);
    for (const c of channels) this.upstreamOf.set(c.id, `${c.from.stage}.${c.from.index}`);
    this.router = new OutputRouter(graph.name, ws.gen, this.ref, topology, graph.bufferBytes, ws, effects);
    // Exactly-once sinks stage their records; a print sink writes them as they come.
    this.sinkOps = stage.operators.filter((o) => o.spec.kind === 'sink' && o.spec.sink.guarantee === 'exactly-once').map((o) => o.name);
    const printers = new Map(stage.operators.flatMap((o) => (o.spec.kind === 'sink' && o.spec.sink.kind === 'print' ? [[o.name as string, o.spec.sink.prefix] as const] : [])));
    this.sinkOnly = stage.operators.length === 1 && this.sinkOps.length === 1;
    this.chain = new OperatorChain(stage, {
      ws,
      maxParallelism: topology.maxParallelism,
      keyGroups: keyGroupsOf(topology, this.ref),
      out: (v, ts, fromOp, port) => this.router.emit(v, ts, fromOp, port),
      watermark: () => this.ws.get<number>(stateKeys.watermark) ?? MIN_WATERMARK,
      sink: (op, v) => {
        this.counts.recordsToSinks++;
        const print = printers.get(op);
        if (print !== undefined) return this.effects.add({ kind: 'print', line: `${print}${JSON.stringify(v)}` });
        let list = this.staged.get(op);
        if (!list) this.staged.set(op, (list = []));
        list.push(v);
      },
    });
  }

  /** @param body the message body `env` was decoded from, when at hand (saves re-encoding). */
  async handle(env: Envelope, body?: string): Promise<void> {
    if (env.gen < this.ws.gen && !this.unsafe.skipFencing) return;
    if (env.gen > this.ws.gen) throw new NotYetRestoredError(subtaskKey(this.ref), this.ws.gen, env.gen);
    if (isChannelEnvelope(env)) return this.onChannel(env, body);
    switch (env.kind) {
      case 'trigger':
        return this.onTrigger(env);
      case 'poll':
        return this.onPoll(env);
      case 'commit':
        return this.onCommit(env);
    }
  }

  private onChannel(env: ChannelEnvelope, body: string | undefined): void {
    const ch = channelId({ stage: env.from.op as never, index: env.from.subtask }, this.ref);
    if (!this.inputs.has(ch)) {
      throw new MalformedEnvelopeError('invalid-field', `${subtaskKey(this.ref)} has no input channel ${ch}`);
    }
    const key = stateKeys.inSeq(ch);
    const last = this.ws.get<number>(key) ?? 0;
    if (this.unsafe.skipDedup) {
      this.ws.set(key, Math.max(last, env.seq));
    } else {
      if (env.seq <= last) return;
      if (env.seq > last + 1) throw new LostMessageError(ch, last + 1, env.seq);
      this.ws.set(key, env.seq);
    }
    this.route(ch, env, body);
  }

  private get alignment(): AlignmentState {
    return this.ws.get<AlignmentState>(stateKeys.alignment) ?? INITIAL_ALIGNMENT;
  }

  private route(ch: ChannelId, env: ChannelEnvelope, body?: string): void {
    const mode = this.graph.checkpoints.mode;
    if (isBlocked(this.alignment, ch, mode) && !this.unsafe.skipAlignmentBuffer) {
      this.bufferAppend({ ch, env });
      return;
    }
    switch (env.kind) {
      case 'records': {
        const part = `${ch}@${env.seq}`;
        this.addProgress(env.recs.length);
        if (this.sinkOnly) {
          this.counts.recordsToSinks += env.recs.length;
          if (env.recs.length > 0) {
            this.stagePart(this.sinkOps[0]!, part, body !== undefined ? recordsJsonOf(body, env.ts !== undefined) : JSON.stringify(env.recs));
          }
          if (env.wm !== undefined) this.endOfInput(part, this.inputWatermark(ch, env.wm, false));
          return;
        }
        const ts = env.ts;
        for (let i = 0; i < env.recs.length; i++) this.chain.push(env.recs[i], ts?.[i] ?? undefined, env.from.op);
        this.endOfInput(part, env.wm === undefined ? null : this.inputWatermark(ch, env.wm, false));
        return;
      }
      case 'watermark':
        this.endOfInput(`${ch}@${env.seq}`, this.inputWatermark(ch, env.wm, env.idle === true));
        return;
      case 'end': {
        // End of input is the largest watermark: every window of the channel's records fires.
        this.endOfInput(`${ch}@${env.seq}`, this.inputWatermark(ch, MAX_WATERMARK, false));
        this.ws.set(stateKeys.ended(ch), true);
        const allEnded = this.inputList.every((c) => this.ws.get(stateKeys.ended(c)) === true);
        if (allEnded && this.ws.get(stateKeys.finished) !== true) {
          this.ws.set(stateKeys.finished, true);
          this.router.broadcast('end');
        }
        return;
      }
      case 'barrier': {
        const { state, decision } = onBarrier(this.alignment, {
          channel: ch,
          checkpoint: env.cp,
          inputs: this.inputList,
          mode,
          now: this.now,
        });
        this.ws.set(stateKeys.alignment, state);
        if (decision.kind === 'snapshot') this.snapshot(decision.checkpoint, decision.alignmentMs);
        if (decision.kind === 'snapshot' || (decision.kind === 'collect' && decision.cancelled !== undefined)) {
          this.releaseBuffer();
        }
        return;
      }
    }
  }

  /**
   * Records an upstream subtask's watermark and recomputes this subtask's: the minimum over
   * its inputs, idle ones left out, never going back. When it advances, windows fire.
   */
  private inputWatermark(ch: string, wm: number, idle: boolean): ChannelWatermark {
    const key = stateKeys.inputWatermark(this.upstreamOf.get(ch)!);
    const previous = this.ws.get<ChannelWatermark>(key);
    const next = { wm: Math.max(previous?.wm ?? MIN_WATERMARK, wm), idle };
    if (previous?.wm !== next.wm || previous.idle !== next.idle) this.ws.set(key, next);
    const upstreams = new Set(this.upstreamOf.values());
    const channels = [...upstreams].map((u) => this.ws.get<ChannelWatermark>(stateKeys.inputWatermark(u)) ?? { wm: MIN_WATERMARK, idle: false });
    const current = this.ws.get<number>(stateKeys.watermark) ?? MIN_WATERMARK;
    const combined = combineWatermarks(channels, current);
    if (combined.wm > current) {
      this.ws.set(stateKeys.watermark, combined.wm);
      this.chain.onWatermark(combined.wm);
    }
    return combined;
  }

  /** Sends the subtask's watermark downstream when it moved or its idleness changed. */
  private forwardWatermark(w: ChannelWatermark): boolean {
    const sent = this.ws.get<ChannelWatermark>(stateKeys.watermarkSent);
    if (sent && w.wm <= sent.wm && w.idle === sent.idle) return false;
    this.ws.set(stateKeys.watermarkSent, { wm: Math.max(w.wm, sent?.wm ?? MIN_WATERMARK), idle: w.idle });
    this.router.watermark(Math.max(w.wm, sent?.wm ?? MIN_WATERMARK), w.idle);
    return true;
  }

  private addProgress(n: number): void {
    this.counts.recordsIn += n;
    this.ws.set(stateKeys.progress, (this.ws.get<number>(stateKeys.progress) ?? 0) + n);
  }

  /** After each input envelope: stage sink output under a part named after the input, send
   *  the buffers, with the new watermark riding on them when there is one. */
  private endOfInput(part: string, watermark: ChannelWatermark | null = null): void {
    for (const [op, values] of this.staged) {
      if (values.length === 0) continue;
      this.stagePart(op, part, JSON.stringify(values));
      this.staged.set(op, []);
    }
    if (!watermark || !this.forwardWatermark(watermark)) this.router.flush();
  }

  /** Writes a staged part (a JSON array of records) named after the input it came from. */
  private stagePart(op: string, part: string, recordsJson: string): void {
    const key = blobKeys.stagedPart(this.graph.name, op, this.ref.index, this.ws.gen, part);
    this.effects.add({ kind: 'blob', key, body: recordsJson });
    this.ws.set(stateKeys.sinkPart(op, part), key);
  }

  private bufferAppend(entry: Buffered): void {
    const tail = this.ws.get<number>(stateKeys.bufferTail) ?? 0;
    this.ws.set(stateKeys.buffered(tail), entry);
    this.ws.set(stateKeys.bufferTail, tail + 1);
  }

  /** Replays the buffer through `route` in arrival order; entries may be buffered again. */
  private releaseBuffer(): void {
    const head = this.ws.get<number>(stateKeys.bufferHead) ?? 0;
    const tail = this.ws.get<number>(stateKeys.bufferTail) ?? 0;
    if (head === tail) return;
    const entries: Buffered[] = [];
    for (let n = head; n < tail; n++) {
      entries.push(this.ws.get<Buffered>(stateKeys.buffered(n))!);
      this.ws.delete(stateKeys.buffered(n));
    }
    this.ws.set(stateKeys.bufferHead, tail);
    for (const e of entries) this.route(e.ch, e.env);
  }

  private snapshot(checkpoint: number, alignmentMs: number): void {
    for (const op of this.sinkOps) {
      const partKeys = this.ws.keysWithPrefix(stateKeys.sinkPartPrefix(op));
      if (partKeys.length === 0) continue;
      this.ws.set(stateKeys.sinkTxn(op, checkpoint, this.ref.index), { parts: partKeys.map((k) => this.ws.get(k)) });
      for (const k of partKeys) this.ws.delete(k);
    }
    const finished = this.isFinished();
    const progress = this.ws.get<number>(stateKeys.progress) ?? 0;
    const entries: [string, unknown][] = [];
    for (const e of this.ws.entries) if (isSnapshotted(e[0])) entries.push(e);
    const channels: Record<string, number> = {};
    for (const c of this.inputList) channels[c] = this.ws.get<number>(stateKeys.inSeq(c)) ?? 0;
    const cp = checkpointId(checkpoint);
    const body = encodeSnapshot({
      v: 1,
      job: this.graph.name,
      stage: this.stage.id,
      subtask: this.ref.index,
      parallelism: this.stage.parallelism,
      checkpoint: cp,
      gen: this.ws.gen,
      finished,
      progress,
      channels,
      entries,
    });
    const key = blobKeys.snapshot(this.graph.name, cp, this.ref);
    this.effects.add({ kind: 'blob', key, body });
    this.effects.add({
      kind: 'ack',
      checkpoint: cp,
      info: { key, bytes: body.length, alignmentMs, finished, progress, at: this.now },
    });
    this.router.broadcast('barrier', checkpoint);
  }

  private isFinished(): boolean {
    if (this.stage.isSource) return this.source().finished;
    return this.ws.get(stateKeys.finished) === true;
  }

  // --- sources -------------------------------------------------------------------------

  private source(): SourceState {
    const key = stateKeys.source(this.stage.id);
    let s = this.ws.get<SourceState>(key);
    if (s === undefined) {
      const reader = this.reader();
      s = {
        offset: reader.start(this.ref.index, this.stage.parallelism),
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
      this.ws.set(key, s);
    }
    return s as SourceState;
  }

  private saveSource(s: SourceState): void {
    this.ws.set(stateKeys.source(this.stage.id), s);
  }

  private reader(): SourceReader {
    const head = this.stage.operators[0]!.spec;
    if (head.kind !== 'source') throw new MalformedEnvelopeError('invalid-field', `${this.stage.id} is not a source`);
    return head.reader;
  }

  /** Input the source could not read goes to the job's dead-letter output, once per place it came from. */
  private deadLetter(rejected: NonNullable<SourceBatch['rejected']>): void {
    const source = this.stage.id;
    for (const r of rejected) {
      const body = JSON.stringify({ source, where: r.where, reason: r.reason, text: r.text });
      this.effects.add({ kind: 'blob', key: blobKeys.deadLetter(this.graph.name, source, r.where), body });
    }
    const counter = stateKeys.counter(source, 'deadLetters');
    this.ws.set(counter, (this.ws.get<number>(counter) ?? 0) + rejected.length);
  }

  /** The source's watermark after a poll: behind its largest timestamp by the strategy's
   *  out-of-orderness; idle once it has read nothing for the idleness timeout. */
  private sourceWatermark(strategy: WatermarkStrategy | undefined, s: SourceState, at: number): ChannelWatermark | null {
    if (!strategy) return null;
    const idle = strategy.idleness !== undefined && at - s.activeAt >= strategy.idleness;
    const wm = Math.max(this.ws.get<number>(stateKeys.watermark) ?? MIN_WATERMARK, sourceWatermark(s.maxTs, strategy.outOfOrderness));
    this.ws.set(stateKeys.watermark, wm);
    return { wm, idle };
  }

  private onTrigger(env: TriggerEnvelope): void {
    const s = { ...this.source() };
    if (env.cp <= s.lastTrigger) return;
    s.lastTrigger = env.cp;
    this.saveSource(s);
    this.snapshot(env.cp, 0);
    if (env.stop) this.saveSource({ ...s, stopped: true });
  }

  private async onPoll(env: PollEnvelope): Promise<void> {
    const head = this.stage.operators[0]!.spec;
    if (head.kind !== 'source') throw new MalformedEnvelopeError('invalid-field', `${this.stage.id} is not a source`);
    const s = { ...this.source() };
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
        this.forwardWatermark({ wm: MAX_WATERMARK, idle: false });
        this.router.broadcast('end');
        this.effects.add({ kind: 'source-finished' });
      }
      this.saveSource(s);
      return;
    }
    if (s.stopped) return this.saveSource(s);

    let n = Math.min(head.batchSize, env.max);
    const perSubtask = head.rate === undefined ? undefined : head.rate / this.stage.parallelism;
    if (perSubtask !== undefined) {
      // Records allowed by the poll's time: one at the start, then `rate` per second.
      const allowed = Math.floor(((env.at - s.rateAt) * perSubtask) / 1000) + 1;
      n = Math.max(0, Math.min(n, allowed - (s.emitted - s.rateEmitted)));
    }
    if (n > 0) {
      const batch = await head.reader.read(this.ref.index, this.stage.parallelism, s.offset, n, this.io, env.limits);
      if (batch.rejected?.length) this.deadLetter(batch.rejected);
      const ts = batch.timestamps;
      for (let i = 0; i < batch.values.length; i++) this.chain.push(batch.values[i], ts?.[i]);
      this.addProgress(batch.values.length);
      if (ts) for (const t of ts) if (t > s.maxTs) s.maxTs = t;
      if (batch.values.length > 0) s.activeAt = env.at;
      this.endOfInput(`poll@${env.round}`, batch.finished ? { wm: MAX_WATERMARK, idle: false } : this.sourceWatermark(head.watermarks, s, env.at));
      s.emitted += batch.values.length;
      s.offset = batch.next;
      if (batch.values.length > 0 && s.idle) this.effects.add({ kind: 'activity' });
      s.idle = batch.values.length === 0 && !batch.finished;
      if (batch.finished) {
        s.finished = true;
        this.router.broadcast('end');
        this.effects.add({ kind: 'source-finished' });
      }
    }
    this.saveSource(s);
    if (!s.finished) {
      // When the next record is due; the invocation waits for it (bounded) before re-polling.
      const notBefore = perSubtask === undefined ? undefined : s.rateAt + Math.ceil(((s.emitted - s.rateEmitted) * 1000) / perSubtask);
      this.effects.add({
        kind: 'poll',
        queue: this.stage.queue,
        group: messageGroupOf(this.ref.index),
        round: s.round,
        dedupId: `${this.ws.gen}:poll:${this.ref.index}:${s.round}`,
        idle: s.idle,
        offset: s.offset,
        ...(notBefore === undefined || notBefore <= env.at ? {} : { notBefore }),
      });
    }
  }

  // --- sinks ---------------------------------------------------------------------------

  /** Commits every staged transaction up to the completed checkpoint (idempotent markers). */
  private onCommit(env: CommitEnvelope): void {
    for (const op of this.sinkOps) {
      for (const key of this.ws.keysWithPrefix(stateKeys.sinkTxnPrefix(op))) {
        const [cp, subtask] = key.slice(stateKeys.sinkTxnPrefix(op).length).split('/').map(Number) as [number, number];
        if (cp > env.cp) continue;
        const txn = this.ws.get<{ parts: string[] }>(key)!;
        this.effects.add({ kind: 'commit', txn: { op, checkpoint: cp, subtask, parts: txn.parts } });
        this.ws.delete(key);
      }
    }
  }
}
