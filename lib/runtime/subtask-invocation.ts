/**
 * One invocation's work for one subtask: it interprets the data path's decisions. For each
 * envelope of the group, in order, the decider (lib/core/subtask-protocol.ts: fencing,
 * dedup, the barrier handler, watermarks) says what to do; this carries it out — writes the
 * protocol state the decision names, runs the operator chain, the router and the sinks
 * (staged per input envelope, sealed per checkpoint, committed on `commit`), keeps the
 * alignment buffer, writes snapshots, runs the `SourceAction`s of a source's trigger or poll
 * — collecting effects to execute afterwards (effect-executor.ts). No I/O happens here but
 * a source reading its input. The order of state writes and effects is part of the
 * behaviour (it fixes the envelopes, their seqs and the snapshot).
 */
import type { EffectLog } from '../core/effects.js';
import type { ChannelEnvelope, Envelope } from '../core/wire/envelope.js';
import { recordsJsonOf } from '../core/wire/envelope-builders.js';
import { InvariantError } from '../core/errors.js';
import type { JobGraph, SourceIo } from '../core/graph.js';
import { checkpointId, type ChannelId, type SubtaskRef } from '../core/ids.js';
import { stateKeys, isSnapshotted } from '../core/wire/state-keys.js';
import { blobKeys, partNames } from '../core/wire/storage-keys.js';
import { decideSubtask, protocolStateOf, subtaskInputs, type ChannelDecision, type SubtaskDecider, type SubtaskDecision, type SubtaskFacts } from '../core/subtask-protocol.js';
import { keyGroupsOf, type StageTopology, type Topology } from '../core/topology.js';
import { MIN_WATERMARK, watermarkToForward, type ChannelWatermark, type WatermarkStep } from '../core/watermarks.js';
import { OperatorChain } from './operator-chain.js';
import { OutputRouter } from './output-router.js';
import { checksRecords } from './sink-formats.js';
import { SinkStaging } from './sink-staging.js';
import { encodeSnapshot } from './snapshot.js';
import type { SubtaskSnapshot } from '../core/recovery.js';
import { extendChain, mayChain, startChain, type SnapshotChain } from '../core/snapshot-chain.js';
import { SourceTask, type SourceAction } from './source-task.js';
import type { WorkingState } from './working-state.js';

/** An alignment buffer entry as kept in working state (`stateKeys.buffered`): the channel
 *  (`ch`) and the envelope (`env`). Stored with every commit, hence the short names. */
interface Buffered {
  readonly ch: ChannelId;
  readonly env: ChannelEnvelope;
}

export class SubtaskInvocation {
  readonly ref: SubtaskRef;
  private readonly router: OutputRouter;
  private readonly chain: OperatorChain;
  private readonly facts: SubtaskFacts;
  private readonly sinks: SinkStaging;
  private readonly source: SourceTask;
  /** The stage is just a sink: it stages the buffers it receives as they are, unparsed. */
  private readonly sinkOnly: boolean;
  /** Records this invocation took in (sources: read) and handed to sinks; for progress displays. */
  readonly counts = { recordsIn: 0, recordsToSinks: 0, recordsOut: 0 };
  /** `counts.recordsOut` as last added to the working state's `emitted` counter. */
  private emittedSaved = 0;

  constructor(
    private readonly graph: JobGraph,
    topology: Topology,
    private readonly stage: StageTopology,
    index: number,
    private readonly ws: WorkingState,
    private readonly effects: EffectLog,
    now: number,
    io: SourceIo,
    private readonly decide: SubtaskDecider = decideSubtask,
  ) {
    this.ref = { stage: stage.id, index };
    const state = protocolStateOf((key) => ws.get(key));
    this.facts = { inputs: subtaskInputs(topology, this.ref), gen: ws.gen, mode: graph.checkpoints.mode, now, state };
    this.router = new OutputRouter(graph.name, ws.gen, this.ref, topology, graph.bufferBytes, ws, effects);
    this.sinks = new SinkStaging(graph, stage, this.ref, ws, effects);
    // A lone sink stages its input's records as they came, unparsed — but for one whose
    // format checks each record (CSV, Parquet: misfit), which then goes through the chain.
    const head = stage.operators[0]!.spec;
    this.sinkOnly = stage.operators.length === 1 && this.sinks.sinks.length === 1 && !(head.kind === 'sink' && checksRecords(head.sink));
    this.chain = new OperatorChain(stage, {
      ws,
      maxParallelism: topology.maxParallelism,
      keyGroups: keyGroupsOf(topology, this.ref),
      out: (v, ts, fromOp, port) => {
        this.counts.recordsOut++;
        this.router.emit(v, ts, fromOp, port);
      },
      watermark: () => state.watermark(),
      processingTime: () => ws.get<number>(stateKeys.processingTime) ?? MIN_WATERMARK,
      sink: (op, v) => {
        this.counts.recordsToSinks++;
        this.counts.recordsOut++;
        this.sinks.add(op, v);
      },
    });
    this.source = new SourceTask(graph, stage, this.ref, ws, io);
  }

  /** @param body the message body `env` was decoded from, when at hand (saves re-encoding). */
  async handle(env: Envelope, body?: string): Promise<void> {
    const decision = this.decide(this.facts, { kind: 'envelope', env });
    if (decision.kind === 'poll') {
      // The poll's time (fixed when it was sent) is the source's processing time.
      const fired = this.advanceProcessingTime(decision.env.at);
      this.runSource(await this.source.poll(decision.env));
      if (fired) this.flushOutput(partNames.poll(decision.env.round));
    } else this.apply(decision, body);
    this.saveEmitted();
  }

  /** Adds what this envelope sent on to the generation's counter: one write per envelope, not per record. */
  private saveEmitted(): void {
    const n = this.counts.recordsOut - this.emittedSaved;
    if (n === 0) return;
    this.emittedSaved = this.counts.recordsOut;
    this.ws.set(stateKeys.emitted, (this.ws.get<number>(stateKeys.emitted) ?? 0) + n);
  }

  private apply(d: SubtaskDecision, body?: string): void {
    switch (d.kind) {
      case 'drop':
        return;
      case 'reject':
        throw d.error;
      case 'trigger':
        if (this.advanceProcessingTime(d.env.at)) this.flushOutput(partNames.trigger(d.env.cp));
        return this.runSource(this.source.trigger(d.env));
      case 'commit':
        return this.sinks.commit(d.env);
      case 'poll':
        throw new InvariantError('a poll is never buffered; handle() reads it');
      default:
        return this.onChannel(d, body);
    }
  }

  private onChannel(d: ChannelDecision, body: string | undefined): void {
    if (d.seq !== null) this.ws.set(stateKeys.inSeq(d.channel), d.seq);
    switch (d.kind) {
      case 'buffer':
        return this.bufferAppend({ ch: d.channel, env: d.env });
      case 'records':
        return this.onRecords(d, body);
      case 'watermark':
        this.applyWatermark(d.watermark);
        return this.endOfInput(d.part, d.watermark.forward);
      case 'end':
        this.applyWatermark(d.watermark);
        // The last channel ended: the chain hears of it before what it emits then is flushed.
        if (d.finish) this.chain.endInput();
        this.endOfInput(d.part, d.watermark.forward);
        this.ws.set(stateKeys.ended(d.channel), true);
        if (d.finish) {
          this.ws.set(stateKeys.finished, true);
          this.router.broadcast('end');
        }
        return;
      case 'barrier':
        // What processing-time timers emit now goes before the barrier, into this checkpoint.
        if (this.advanceProcessingTime(d.pt)) this.flushOutput(partNames.channel(d.channel, d.seq!));
        this.ws.set(stateKeys.alignment, d.alignment);
        if (d.snapshot) this.snapshot(d.snapshot.checkpoint, d.snapshot.alignmentMs, d.snapshot.savepoint);
        if (d.release) this.releaseBuffer();
        return;
    }
  }

  private onRecords(d: Extract<ChannelDecision, { kind: 'records' }>, body: string | undefined): void {
    const { env, part } = d;
    this.addProgress(env.recs.length);
    if (this.sinkOnly) {
      this.counts.recordsToSinks += env.recs.length;
      this.counts.recordsOut += env.recs.length;
      if (env.recs.length > 0) {
        this.sinks.stage(this.sinks.sinks[0]!, part, body !== undefined ? recordsJsonOf(body, env.ts !== undefined) : JSON.stringify(env.recs));
      }
      if (d.watermark) {
        this.applyWatermark(d.watermark);
        this.endOfInput(part, d.watermark.forward);
      }
      return;
    }
    this.advanceProcessingTime(env.pt);
    const ts = env.ts;
    for (let i = 0; i < env.recs.length; i++) this.chain.push(env.recs[i], ts?.[i] ?? undefined, env.from.op, env.in);
    if (d.watermark) this.applyWatermark(d.watermark);
    this.endOfInput(part, d.watermark?.forward ?? null);
  }

  /** Carries out what a source's trigger or poll returned, in order. */
  private runSource(actions: readonly SourceAction[]): void {
    for (const a of actions) this.runSourceAction(a);
  }

  private runSourceAction(a: SourceAction): void {
    switch (a.kind) {
      case 'emit':
        for (let i = 0; i < a.values.length; i++) this.chain.push(a.values[i], a.timestamps?.[i]);
        return this.addProgress(a.values.length);
      case 'watermark':
        return this.ws.set(stateKeys.watermark, a.wm);
      case 'finish-input':
        return this.chain.endInput();
      case 'end-of-input':
        return this.endOfInput(a.part, a.watermark && this.toForward(a.watermark));
      case 'forward-watermark':
        return void this.forwardWatermark(this.toForward(a.watermark));
      case 'broadcast-end':
        return this.router.broadcast('end');
      case 'snapshot':
        return this.snapshot(a.checkpoint, 0, a.savepoint);
      case 'save':
        return this.source.save(a.state);
      case 'effect':
        return this.effects.add(a.effect);
    }
  }

  /**
   * Processing time moves up to `pt` (a poll's or a trigger's time, or what an input envelope
   * carries), never back; process functions' processing-time timers it reached fire.
   */
  private advanceProcessingTime(pt: number | undefined): boolean {
    if (pt === undefined || pt <= (this.ws.get<number>(stateKeys.processingTime) ?? MIN_WATERMARK)) return false;
    this.ws.set(stateKeys.processingTime, pt);
    this.chain.onProcessingTime(pt);
    return true;
  }

  /** Stages sink output as `part` and sends the buffers (after timers fired outside an input's records). */
  private flushOutput(part: string): void {
    this.sinks.flush(part);
    this.router.flush();
  }

  /** An input's watermark, as decided: the upstream's entry, then the subtask's (windows fire). */
  private applyWatermark(step: WatermarkStep): void {
    if (step.input) this.ws.set(stateKeys.inputWatermark(step.upstream), step.input);
    if (step.advanced !== null) {
      this.ws.set(stateKeys.watermark, step.advanced);
      this.chain.onWatermark(step.advanced);
    }
  }

  private toForward(w: ChannelWatermark): ChannelWatermark | null {
    return watermarkToForward(this.facts.state.watermarkSent(), w);
  }

  /** Sends the watermark downstream (when it moved or its idleness changed: not null). */
  private forwardWatermark(forward: ChannelWatermark | null): boolean {
    if (forward === null) return false;
    this.ws.set(stateKeys.watermarkSent, forward);
    this.router.watermark(forward.wm, forward.idle);
    return true;
  }

  private addProgress(n: number): void {
    this.counts.recordsIn += n;
    this.ws.set(stateKeys.progress, (this.ws.get<number>(stateKeys.progress) ?? 0) + n);
  }

  /** A source's emitted watermark; another subtask's input watermark; null before the first. */
  private currentWatermark(): number | null {
    const wm = this.stage.isSource ? this.facts.state.watermarkSent()?.wm : this.facts.state.watermark();
    // MIN_WATERMARK: none yet. MAX_WATERMARK (end of event time) is kept: it is news.
    return wm === undefined || wm <= MIN_WATERMARK ? null : wm;
  }

  /** After each input envelope: stage sink output under a part named after the input, send
   *  the buffers, with the watermark to forward riding on them when there is one. */
  private endOfInput(part: string, forward: ChannelWatermark | null): void {
    this.sinks.flush(part);
    if (!this.forwardWatermark(forward)) this.router.flush();
  }

  private bufferAppend(entry: Buffered): void {
    const tail = this.ws.get<number>(stateKeys.bufferTail) ?? 0;
    this.ws.set(stateKeys.buffered(tail), entry);
    this.ws.set(stateKeys.bufferTail, tail + 1);
  }

  /** Replays the buffer through the decider in arrival order; entries may be buffered again. */
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
    for (const e of entries) this.apply(this.decide(this.facts, { kind: 'released', channel: e.ch, env: e.env }));
  }

  /** Barrier `checkpoint` aligned (or triggered, at a source): snapshot, ack, forward it. */
  private snapshot(checkpoint: number, alignmentMs: number, savepoint: boolean): void {
    const started = performance.now();
    this.saveEmitted();
    this.sinks.seal(checkpoint);
    const finished = this.stage.isSource ? this.source.state().finished : this.facts.state.finished();
    const progress = this.ws.get<number>(stateKeys.progress) ?? 0;
    const channels: Record<string, number> = {};
    for (const c of this.facts.inputs.channels) channels[c] = this.facts.state.lastSeq(c);
    const cp = checkpointId(checkpoint);
    const { graph, stage, ref } = this;
    const header = { job: graph.name, stage: stage.id, subtask: ref.index, parallelism: stage.parallelism, checkpoint: cp, gen: this.ws.gen, finished, progress, channels };
    const { body, stateSize, chained } = this.snapshotBody(header, savepoint);
    const key = blobKeys.snapshot(this.graph.name, cp, this.ref);
    this.effects.add({ kind: 'blob', key, body });
    const statistics = {
      emitted: this.ws.get<number>(stateKeys.emitted) ?? 0,
      watermark: this.currentWatermark(),
      // Flink's synchronous part; the asynchronous one (the upload) is the executor's to time.
      syncMs: Math.round(performance.now() - started),
      stateSize,
      chained,
    };
    this.effects.add({ kind: 'ack', checkpoint: cp, info: { key, bytes: body.length, alignmentMs, finished, progress, at: this.facts.now, ...statistics } });
    this.router.broadcast('barrier', checkpoint, savepoint);
  }

  /** A delta on the subtask's chain when the chain allows it (core/snapshot-chain.ts), else
   *  the whole operator state — which starts a new chain, unless it is a savepoint's. */
  private snapshotBody(header: Omit<SubtaskSnapshot, 'v' | 'entries'>, savepoint: boolean): { body: string; stateSize: number; chained: number } {
    const settings = this.graph.checkpoints;
    const chain = this.ws.get<SnapshotChain>(stateKeys.snapshotChain);
    if (mayChain(chain, header.checkpoint, savepoint, settings)) {
      const changed = this.ws.changedSinceSnapshot();
      const body = encodeSnapshot({ ...header, v: 2, entries: changed.set, deleted: changed.deleted, chain: chain.ids });
      const next = extendChain(chain, header.checkpoint, body.length);
      if (next) {
        this.chained(next);
        return { body, stateSize: next.fullBytes + next.deltaBytes, chained: chain.ids.length };
      }
    }
    const entries: [string, unknown][] = [];
    for (const e of this.ws.entries) if (isSnapshotted(e[0])) entries.push(e);
    const body = encodeSnapshot({ ...header, v: 1, entries });
    if (!savepoint && settings.incremental) this.chained(startChain(header.checkpoint, body.length));
    return { body, stateSize: body.length, chained: 0 };
  }

  private chained(chain: SnapshotChain): void {
    this.ws.set(stateKeys.snapshotChain, chain);
    this.ws.snapshotTaken();
  }
}
