/**
 * Routes a subtask's output records to downstream channels (forward, rebalance, broadcast,
 * keyBy → key group → subtask) and packs them into buffers: one envelope carries as many
 * records as fit in `bufferBytes`. A buffer is encoded with one JSON.stringify of its
 * records and split in halves in the rare case it comes out too large.
 *
 * Determinism (DESIGN §4 rule 2): buffers are flushed at the end of every input envelope, and
 * the rebalance counter restarts there, so the envelopes an input produces depend only on
 * that input and the state, never on how SQS happened to batch messages.
 *
 * Records skipped because a user function threw on them (`onUserError: 'dead-letter'`) leave
 * by the router too, as blobs keyed by the record's digest: a replay — in this generation or
 * after a restore, at any parallelism — rewrites the same object.
 */
import { Buffer } from 'node:buffer';
import type { Endpoint } from '../core/wire/envelope.js';
import { envelopes, type EnvelopeHeader } from '../core/wire/envelope-builders.js';
import { dedupIds } from '../core/wire/dedup-ids.js';
import { classify } from '../core/error-boundary.js';
import { formatBytes, InvariantError, UserFunctionError } from '../core/errors.js';
import { channelId, type ChannelId, type Generation, type JobName, type SubtaskRef } from '../core/ids.js';
import { encodeKey, keyGroupOf, subtaskForKeyGroup } from '../core/keygroups.js';
import { stateKeys } from '../core/wire/state-keys.js';
import { messageGroupOf, outputTargets, stageById, type Topology } from '../core/topology.js';
import type { UserErrorPolicy } from '../core/config.js';
import type { OutputPort, Partitioning } from '../core/graph.js';
import { recordDeadLetter } from './dead-letter-output.js';
import type { EffectLog } from '../core/effects.js';
import { keyOf } from './keyed-state.js';
import type { WorkingState } from './working-state.js';

/** An operator's outputs as the router takes them: its records, its late records, or the
 *  records its user function threw on (the value is then the UserFunctionError). */
export type RoutedPort = OutputPort | 'dead-letter';

interface Target {
  readonly ref: SubtaskRef;
  readonly to: Endpoint;
  readonly channel: ChannelId;
  readonly queue: string;
  /** The operator whose output the buffer carries. */
  readonly fromOp: string;
  /** Which of the consumer head's inputs it feeds (StageEdge.input). */
  readonly input: number;
  values: unknown[];
  ts: (number | null)[];
  hasTs: boolean;
}

interface Edge {
  readonly partitioning: Partitioning;
  readonly fromOp: string;
  readonly port: OutputPort;
  readonly consumer: string;
  readonly targets: Target[];
  readonly maxParallelism: number;
  /** The consumer's policy: with 'dead-letter', a record its keyBy fails on is skipped to the dead-letter output. */
  readonly onUserError: UserErrorPolicy | undefined;
  /** Rebalance round-robin: how many records this edge has sent since the last flush; the
   *  next one goes to target (own index + this) mod targets. */
  nextRebalance: number;
}

/** Room left for the envelope's header within `bufferBytes`. */
const HEADER_RESERVE = 512;
/** Records held per buffer before it is encoded, whatever their size. */
const MAX_PENDING = 20_000;

export class OutputRouter {
  private readonly edges: Edge[];
  private readonly all: Target[];
  /** The targets of each output channel (several when edges to one stage share it), in order. */
  private readonly channels: Target[][];
  private readonly from: Endpoint;

  constructor(
    private readonly job: JobName,
    private readonly gen: Generation,
    private readonly self: SubtaskRef,
    topology: Topology,
    private readonly bufferBytes: number,
    private readonly ws: WorkingState,
    private readonly effects: EffectLog,
  ) {
    this.from = { op: self.stage, subtask: self.index };
    this.edges = outputTargets(topology, self).map(({ edge, targets }) => ({
      partitioning: edge.partitioning,
      fromOp: edge.fromOp,
      port: edge.port,
      consumer: edge.stage,
      maxParallelism: topology.maxParallelism,
      onUserError: stageById(topology, edge.stage).operators[0]!.onUserError,
      nextRebalance: 0,
      targets: targets.map((ref) => ({
        ref,
        to: { op: ref.stage, subtask: ref.index },
        channel: channelId(self, ref),
        queue: stageById(topology, ref.stage).queue,
        fromOp: edge.fromOp,
        input: edge.input,
        values: [],
        ts: [],
        hasTs: false,
      })),
    }));
    this.all = this.edges.flatMap((e) => e.targets);
    const byChannel = new Map<string, Target[]>();
    for (const t of this.all) byChannel.set(t.channel, [...(byChannel.get(t.channel) ?? []), t]);
    this.channels = [...byChannel.values()];
  }

  /** Routes a record from `fromOp`'s `port` (the stage tail's main output by default). */
  emit(value: unknown, timestamp: number | undefined, fromOp?: string, port: RoutedPort = 'main'): void {
    if (port === 'dead-letter') return this.deadLetter(value);
    if (value === undefined) {
      throw UserFunctionError.invalid(fromOp ?? this.self.stage, 'emitted undefined; records must be JSON values', null);
    }
    for (const edge of this.edges) {
      // Other outputs than the main one come from the operator that has them, anywhere in the chain.
      if (edge.port !== port || (port !== 'main' && edge.fromOp !== fromOp)) continue;
      switch (edge.partitioning.type) {
        case 'forward':
          this.add(edge.targets[0]!, value, timestamp);
          break;
        case 'broadcast':
          for (const t of edge.targets) this.add(t, value, timestamp);
          break;
        case 'rebalance':
          this.add(edge.targets[(this.self.index + edge.nextRebalance++) % edge.targets.length]!, value, timestamp);
          break;
        case 'hash': {
          let group;
          try {
            group = keyGroupOf(encodeKey(keyOf(edge.partitioning.key, value, edge.consumer)), edge.maxParallelism);
          } catch (e) {
            if (classify(e, { onUserError: edge.onUserError }) !== 'dead-letter') throw e;
            this.deadLetter(e);
            break;
          }
          this.add(edge.targets[subtaskForKeyGroup(group, edge.maxParallelism, edge.targets.length)]!, value, timestamp);
          break;
        }
      }
    }
  }

  private add(t: Target, value: unknown, timestamp: number | undefined): void {
    t.values.push(value);
    t.ts.push(timestamp ?? null);
    if (timestamp !== undefined) t.hasTs = true;
    if (t.values.length >= MAX_PENDING) this.send(t);
  }

  /** Sends every partly filled buffer. Called at the end of each input envelope. */
  flush(): void {
    for (const t of this.all) if (t.values.length > 0) this.send(t);
    for (const e of this.edges) e.nextRebalance = 0;
  }

  /**
   * Sends a watermark on every output channel, after the records before it: attached to the
   * channel's last records envelope when it has one pending, in an envelope of its own
   * otherwise (and always for an idleness mark).
   */
  watermark(wm: number, idle: boolean): void {
    for (const targets of this.channels) {
      const pending = targets.filter((t) => t.values.length > 0);
      pending.forEach((t, i) => this.send(t, !idle && i === pending.length - 1 ? wm : undefined));
      if (pending.length > 0 && !idle) continue;
      const t = targets[0]!;
      const seq = this.nextSeq(t);
      this.push(t, seq, envelopes.watermark(this.header(t), seq, wm, idle));
    }
    for (const e of this.edges) e.nextRebalance = 0;
  }

  /** Sends a barrier or end-of-input on every output channel (once), after the records before it. */
  broadcast(kind: 'barrier' | 'end', checkpoint?: number, savepoint = false): void {
    this.flush();
    for (const [t] of this.channels) {
      const seq = this.nextSeq(t!);
      this.push(t!, seq, kind === 'barrier' ? envelopes.barrier(this.header(t!), seq, checkpoint!, savepoint, this.processingTime()) : envelopes.end(this.header(t!), seq));
    }
  }

  /** The subtask's recorded processing time, which what it sends carries; none before the first. */
  private processingTime(): number | undefined {
    return this.ws.get<number>(stateKeys.processingTime);
  }

  /** Sends a target's pending records; `wm` rides on the last envelope. */
  private send(t: Target, wm?: number): void {
    const header = this.header(t);
    const room = this.bufferBytes - HEADER_RESERVE;
    const pack = (values: unknown[], ts: (number | null)[] | undefined, last: boolean): void => {
      const recs = JSON.stringify(values);
      const tsText = ts ? ts.join(',') : '';
      if (Buffer.byteLength(recs) + tsText.length + 32 <= room) {
        const seq = this.nextSeq(t);
        this.push(t, seq, envelopes.records(header, seq, recs, ts ? `[${tsText}]` : undefined, last ? wm : undefined, t.input, this.processingTime()));
        return;
      }
      if (values.length === 1) {
        const problem = `a record of ${formatBytes(Buffer.byteLength(recs) - 2)} exceeds the ${this.bufferBytes}-byte buffer`;
        throw UserFunctionError.invalid(t.fromOp, problem, { record: values[0] });
      }
      const half = values.length >> 1;
      pack(values.slice(0, half), ts?.slice(0, half), false);
      pack(values.slice(half), ts?.slice(half), last);
    };
    pack(t.values, t.hasTs ? t.ts : undefined, true);
    t.values = [];
    t.ts = [];
    t.hasTs = false;
  }

  /** A record skipped because a user function threw on it: to the job's dead-letter output. */
  private deadLetter(error: unknown): void {
    if (!(error instanceof UserFunctionError)) throw new InvariantError('only a UserFunctionError goes to the dead-letter output');
    this.effects.add(recordDeadLetter(this.job, this.self, error));
  }

  private header(t: Target): EnvelopeHeader {
    return { job: this.job, gen: this.gen, from: this.from, to: t.to };
  }

  private nextSeq(t: Target): number {
    const key = stateKeys.outSeq(t.channel);
    const seq = (this.ws.get<number>(key) ?? 0) + 1;
    this.ws.set(key, seq);
    return seq;
  }

  private push(t: Target, seq: number, body: string): void {
    this.effects.add({
      kind: 'send',
      queue: t.queue,
      message: { group: messageGroupOf(t.ref.index), body, dedupId: dedupIds.channel(this.gen, this.self, t.ref.index, seq) },
    });
  }
}
