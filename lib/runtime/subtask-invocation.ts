/**
 * One invocation's work for one subtask: takes the group's envelopes in order and applies
 * the exactly-once rules (DESIGN §4–5) to the working state, collecting effects to execute
 * afterwards. Nothing here does I/O except a source reading its input.
 *
 * - generation fencing: envelopes of an older generation are dropped;
 * - sequence dedup: per input channel, an envelope at or below the last applied seq is
 *   dropped, one that skips ahead means a message was lost (terminal);
 * - barrier alignment with the buffer in working state, snapshot, ack, barrier forwarding;
 * - sources (source-task.ts): polls (self-scheduled reads), triggers (offsets snapshot +
 *   barriers);
 * - sinks (sink-staging.ts): output staged per input envelope, sealed per checkpoint,
 *   committed on `commit`.
 */
import { INITIAL_ALIGNMENT, isBlocked, onBarrier, type AlignmentState } from '../core/alignment.js';
import { isChannelEnvelope, recordsJsonOf, type ChannelEnvelope, type Envelope } from '../core/envelope.js';
import { LostMessageError, MalformedEnvelopeError, NotYetRestoredError } from '../core/errors.js';
import type { JobGraph, SourceIo } from '../core/graph.js';
import { channelId, checkpointId, subtaskKey, type ChannelId, type SubtaskRef } from '../core/ids.js';
import { stateKeys, isSnapshotted } from '../core/state-keys.js';
import { combineWatermarks, MAX_WATERMARK, MIN_WATERMARK, type ChannelWatermark } from '../core/watermarks.js';
import { blobKeys } from '../core/storage-keys.js';
import { inputChannels, keyGroupsOf, type StageTopology, type Topology } from '../core/topology.js';
import type { EffectLog } from './effects.js';
import { SinkStaging } from './sink-staging.js';
import { SourceTask, type SourceHost } from './source-task.js';
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


interface Buffered {
  readonly ch: ChannelId;
  readonly env: ChannelEnvelope;
}

export class SubtaskInvocation implements SourceHost {
  readonly ref: SubtaskRef;
  private readonly inputs: ReadonlySet<string>;
  private readonly inputList: string[];
  /** Channel → the upstream subtask (`stage.index`) whose watermark it carries. */
  private readonly upstreamOf = new Map<string, string>();
  readonly router: OutputRouter;
  readonly chain: OperatorChain;
  private readonly sinks: SinkStaging;
  private readonly source: SourceTask;
  /** The stage is just a sink: it stages the buffers it receives as they are, unparsed. */
  private readonly sinkOnly: boolean;
  /** Records this invocation took in (sources: read) and handed to sinks; for progress displays. */
  readonly counts = { recordsIn: 0, recordsToSinks: 0 };

  constructor(
    readonly graph: JobGraph,
    topology: Topology,
    readonly stage: StageTopology,
    index: number,
    readonly ws: WorkingState,
    readonly effects: EffectLog,
    private readonly now: number,
    readonly io: SourceIo,
    private readonly unsafe: UnsafeSwitches = {},
  ) {
    this.ref = { stage: stage.id, index };
    const channels = inputChannels(topology, this.ref);
    this.inputList = channels.map((c) => c.id);
    this.inputs = new Set(this.inputList);
    for (const c of channels) this.upstreamOf.set(c.id, `${c.from.stage}.${c.from.index}`);
    this.router = new OutputRouter(graph.name, ws.gen, this.ref, topology, graph.bufferBytes, ws, effects);
    this.sinks = new SinkStaging(graph, stage, this.ref, ws, effects);
    this.sinkOnly = stage.operators.length === 1 && this.sinks.sinks.length === 1;
    this.chain = new OperatorChain(stage, {
      ws,
      maxParallelism: topology.maxParallelism,
      keyGroups: keyGroupsOf(topology, this.ref),
      out: (v, ts, fromOp, port) => this.router.emit(v, ts, fromOp, port),
      watermark: () => this.ws.get<number>(stateKeys.watermark) ?? MIN_WATERMARK,
      sink: (op, v) => {
        this.counts.recordsToSinks++;
        this.sinks.add(op, v);
      },
    });
    this.source = new SourceTask(this);
  }

  /** @param body the message body `env` was decoded from, when at hand (saves re-encoding). */
  async handle(env: Envelope, body?: string): Promise<void> {
    if (env.gen < this.ws.gen && !this.unsafe.skipFencing) return;
    if (env.gen > this.ws.gen) throw new NotYetRestoredError(subtaskKey(this.ref), this.ws.gen, env.gen);
    if (isChannelEnvelope(env)) return this.onChannel(env, body);
    switch (env.kind) {
      case 'trigger':
        return this.source.onTrigger(env);
      case 'poll':
        return this.source.onPoll(env);
      case 'commit':
        return this.sinks.commit(env);
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
            this.sinks.stage(this.sinks.sinks[0]!, part, body !== undefined ? recordsJsonOf(body, env.ts !== undefined) : JSON.stringify(env.recs));
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
  forwardWatermark(w: ChannelWatermark): boolean {
    const sent = this.ws.get<ChannelWatermark>(stateKeys.watermarkSent);
    if (sent && w.wm <= sent.wm && w.idle === sent.idle) return false;
    this.ws.set(stateKeys.watermarkSent, { wm: Math.max(w.wm, sent?.wm ?? MIN_WATERMARK), idle: w.idle });
    this.router.watermark(Math.max(w.wm, sent?.wm ?? MIN_WATERMARK), w.idle);
    return true;
  }

  addProgress(n: number): void {
    this.counts.recordsIn += n;
    this.ws.set(stateKeys.progress, (this.ws.get<number>(stateKeys.progress) ?? 0) + n);
  }

  /** After each input envelope: stage sink output under a part named after the input, send
   *  the buffers, with the new watermark riding on them when there is one. */
  endOfInput(part: string, watermark: ChannelWatermark | null = null): void {
    this.sinks.flush(part);
    if (!watermark || !this.forwardWatermark(watermark)) this.router.flush();
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

  /** Barrier `checkpoint` aligned (or triggered, at a source): snapshot, ack, forward it. */
  snapshot(checkpoint: number, alignmentMs: number): void {
    this.sinks.seal(checkpoint);
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
    if (this.stage.isSource) return this.source.state().finished;
    return this.ws.get(stateKeys.finished) === true;
  }

}
