/**
 * The operator role: what one Lambda container does with SQS batches for a stage's queue.
 * A batch may mix message groups (subtasks); each group is handled in order and on its own
 * (its own state load and commit), concurrently with the others. A group that fails has
 * all its messages in this batch reported as failed (Powertools' skipGroupOnError), so it
 * never runs ahead of a failed message while other groups carry on.
 *
 * Malformed bodies never block a group: they are sent to the stage's dead-letter queue with
 * the reason, and count as consumed.
 */
import { decodeEnvelope, type Envelope } from '../core/wire/envelope.js';
import { classify } from '../core/error-boundary.js';
import { MalformedEnvelopeError, TidemarkError, StateConflictError, TransientStorageError } from '../core/errors.js';
import type { JobGraph, SourceIo } from '../core/graph.js';
import { sourceIo } from './source-io.js';
import { subtaskKey, type SubtaskRef } from '../core/ids.js';
import { versionText } from '../core/wire/storage-keys.js';
import { stateKeys } from '../core/wire/state-keys.js';
import { deadLetterWrapperBody } from '../core/wire/queue-bodies.js';
import { dedupIds } from '../core/wire/dedup-ids.js';
import { compileTopology, stageById, type ParallelismOverrides, type Topology } from '../core/topology.js';
import { EffectLog } from '../core/effects.js';
import { dropsAfterCancel } from '../core/cancel.js';
import type { JobRecord } from '../core/manifest.js';
import type { SubtaskDecider } from '../core/subtask-protocol.js';
import type { Ports } from '../ports/index.js';
import { executeEffects, unlimitedFlow, type FlowControl } from './effect-executor.js';
import { describeEnvelope, failureOf, requestFailover, type Failure } from './failover.js';
import { sendInOrder, type SenderOptions } from './sender.js';
import { StateCache } from './state-cache.js';
import { StatePersistence, type PersistenceOptions } from './state-persistence.js';
import { SubtaskInvocation } from './subtask-invocation.js';
import type { WorkingState } from './working-state.js';

/** Characters of a malformed body kept in its dead letter (SQS messages are at most 256 KiB–1 MiB). */
const DEAD_LETTER_BODY_CHARS = 64 * 1024;

export interface IncomingMessage {
  readonly messageId: string;
  readonly body: string;
  readonly group: string;
}

/** Lambda's SQS partial batch response. */
export interface BatchResponse {
  readonly batchItemFailures: { readonly itemIdentifier: string }[];
}

export interface RuntimeLogger {
  warn(message: string, data?: Record<string, unknown>): void;
}

export interface OperatorRuntimeOptions {
  /** The data path's decision per envelope. The simulation swaps in broken ones to prove
   *  it catches them. @default decideSubtask */
  readonly decide?: SubtaskDecider;
  readonly persistence?: PersistenceOptions;
  readonly flow?: FlowControl;
  readonly sender?: SenderOptions;
  /** Largest message body accepted; larger ones are dead-lettered. @default 1 MiB (SQS's limit) */
  readonly maxMessageBytes?: number;
  readonly logger?: RuntimeLogger;
  /** Source of the restart strategy's jitter. @default Math.random */
  readonly random?: () => number;
  /** Unique suffixes for spilled-state keys. @default crypto.randomUUID */
  readonly nonce?: () => string;
  /** Where at-least-once print sinks write. @default stdout */
  readonly print?: (line: string) => void;
  /** How long a read of the job item (is it canceled?) serves this container. @default 2 s */
  readonly jobViewMs?: number;
}

/** Where a group's handling is: the envelope being handled (for the failure record) and
 *  how many of its items are committed. */
interface Handling {
  envelope: Envelope | null;
  committed: number;
}

export class OperatorRuntime {
  private readonly cache: StateCache;
  private readonly io: SourceIo;
  private readonly topologies = new Map<string, Topology>();
  /** The job item as last read, and when: a canceled job's envelopes are dropped. */
  private jobView: { readonly job: JobRecord | null; readonly at: number } | null = null;
  /** Counters of this container; records are counted once per successful commit. */
  readonly stats = { groups: 0, conflicts: 0, deadLettered: 0, dropped: 0, failures: 0, sourceRecords: 0, recordsIn: 0, recordsToSinks: 0 };

  constructor(
    readonly graph: JobGraph,
    private readonly ports: Ports,
    private readonly options: OperatorRuntimeOptions = {},
  ) {
    const persistence = new StatePersistence(graph.name, ports.state, ports.blobs, options.persistence, options.nonce);
    this.cache = new StateCache(persistence);
    this.io = sourceIo(ports, graph.name);
  }

  topologyFor(overrides: ParallelismOverrides = {}): Topology {
    const key = JSON.stringify(overrides);
    let t = this.topologies.get(key);
    if (!t) this.topologies.set(key, (t = compileTopology(this.graph, overrides)));
    return t;
  }

  async handleBatch(stageId: string, messages: readonly IncomingMessage[]): Promise<BatchResponse> {
    const base = this.topologyFor();
    const stage = stageById(base, stageId);
    const expect = {
      job: this.graph.name,
      stages: new Set([stage.id as string]),
      maxBytes: this.options.maxMessageBytes ?? 1024 * 1024,
    };
    const groups = new Map<string, { message: IncomingMessage; envelope: Envelope }[]>();
    const failures: string[] = [];
    const job = await this.job();
    for (const message of messages) {
      try {
        const envelope = decodeEnvelope(message.body, expect);
        if (String(envelope.to.subtask) !== message.group) {
          throw new MalformedEnvelopeError('invalid-field', `to.subtask ${envelope.to.subtask} is not message group ${message.group}`);
        }
        // In flight when the job was canceled: consumed without effect (core/cancel.ts).
        if (dropsAfterCancel(job, envelope.gen, envelope.kind)) {
          this.stats.dropped++;
          continue;
        }
        let list = groups.get(message.group);
        if (!list) groups.set(message.group, (list = []));
        list.push({ message, envelope });
      } catch (e) {
        if (!(await this.deadLetter(stage.deadLetterQueue, message, e))) failures.push(message.messageId);
      }
    }
    await Promise.all(
      [...groups].map(async ([group, items]) => {
        const failed = await this.runGroup({ stage: stage.id, index: Number(group) }, items, stage.deadLetterQueue);
        failures.push(...failed);
      }),
    );
    return { batchItemFailures: failures.map((itemIdentifier) => ({ itemIdentifier })) };
  }

  /** The job item, read again once the last read is `jobViewMs` old; a failed read keeps the last. */
  private async job(): Promise<JobRecord | null> {
    const now = this.ports.clock.now();
    if (this.jobView && now - this.jobView.at < (this.options.jobViewMs ?? 2000)) return this.jobView.job;
    try {
      this.jobView = { job: await this.ports.manifest.getJob(this.graph.name), at: now };
    } catch (e) {
      if (!(e instanceof TransientStorageError)) throw e;
    }
    return this.jobView?.job ?? null;
  }

  /** Returns the ids of the messages to report as failed: the first one not committed and
   *  every later one of the group. */
  private async runGroup(
    ref: SubtaskRef,
    items: { message: IncomingMessage; envelope: Envelope }[],
    deadLetterQueue: string,
  ): Promise<string[]> {
    this.stats.groups++;
    let ws: WorkingState | undefined;
    const at: Handling = { envelope: null, committed: 0 };
    try {
      while (at.committed < items.length) {
        ws = await this.cache.fresh(ref);
        await this.runSegment(ref, ws, items, deadLetterQueue, at);
      }
      return [];
    } catch (e) {
      this.stats.failures++;
      if (classify(e) === 'terminal' && ws) {
        const input = at.envelope === null ? null : describeEnvelope(at.envelope);
        await this.failover(ws, failureOf(e, ref, input)).catch((f) => this.log('failover request failed', ref, f));
      }
      if (!(e instanceof StateConflictError)) this.log('group failed', ref, e);
      return items.slice(at.committed).map((i) => i.message.messageId);
    }
  }

  /**
   * Handles the group's items from `at.committed` on, up to and including the first that
   * took a snapshot, then executes the effects and commits. A checkpoint's ack does not wait
   * for the rest of the batch (a slow stage would hold every barrier for a whole batch); the
   * rest is handled as the next invocation would, on the committed state.
   */
  private async runSegment(ref: SubtaskRef, ws: WorkingState, items: { message: IncomingMessage; envelope: Envelope }[], deadLetterQueue: string, at: Handling): Promise<void> {
    const topology = this.topologyFor(ws.get<ParallelismOverrides>(stateKeys.topology) ?? {});
    const effects = new EffectLog();
    const stage = stageById(topology, ref.stage);
    const invocation = new SubtaskInvocation(this.graph, topology, stage, ref.index, ws, effects, this.ports.clock.now(), this.io, this.options.decide);
    let end = at.committed;
    while (end < items.length) {
      const { message, envelope } = items[end++]!;
      at.envelope = envelope;
      try {
        await invocation.handle(envelope, message.body);
      } catch (e) {
        if (classify(e) !== 'dead-letter') throw e;
        // Sending it to the DLQ failed (throttled, lost response): retry the group later;
        // the malformed envelope itself must not fail the job over.
        if (!(await this.deadLetter(deadLetterQueue, message, e))) throw new TransientStorageError(`dead-letter ${message.messageId} to ${deadLetterQueue}`, { cause: e });
      }
      if (effects.acks.length > 0) break;
    }
    at.envelope = null;
    await executeEffects(
      {
        ports: this.ports,
        graph: this.graph,
        topology,
        io: this.io,
        flow: this.options.flow ?? unlimitedFlow,
        print: this.options.print ?? ((line) => process.stdout.write(`${line}\n`)),
        ...(this.options.sender ? { sender: this.options.sender } : {}),
      },
      ref,
      ws.gen,
      effects,
    );
    if (!(await this.cache.commit(ref, ws))) {
      this.stats.conflicts++;
      throw new StateConflictError(subtaskKey(ref), versionText(ws.version));
    }
    at.committed = end;
    this.stats.recordsIn += invocation.counts.recordsIn;
    if (stage.isSource) this.stats.sourceRecords += invocation.counts.recordsIn;
    this.stats.recordsToSinks += invocation.counts.recordsToSinks;
  }

  private async failover(ws: WorkingState, failure: Failure): Promise<void> {
    const random = this.options.random ?? Math.random;
    await requestFailover(this.ports.manifest, this.graph.name, this.graph.restart, ws.gen, failure, this.ports.clock.now(), random());
  }

  /** Sends a message that cannot be processed to the DLQ with its reason; false if that failed. */
  private async deadLetter(queue: string, message: IncomingMessage, error: unknown): Promise<boolean> {
    // The caller's classify said dead-letter, and without an onUserError policy only a
    // malformed envelope is one; the check narrows the type.
    if (!(error instanceof MalformedEnvelopeError)) throw error;
    this.stats.deadLettered++;
    // The dead letter must itself fit in a message: a huge body is kept only in part.
    const wrapped = deadLetterWrapperBody(message, error.reason, error.message, DEAD_LETTER_BODY_CHARS);
    try {
      await sendInOrder(this.ports.queue, this.ports.clock, [
        { queue, message: { group: message.group || 'unknown', dedupId: dedupIds.deadLetter(message.messageId), body: wrapped } },
      ]);
      return true;
    } catch (e) {
      this.log('dead-lettering failed', undefined, e);
      return false;
    }
  }

  private log(message: string, ref: SubtaskRef | undefined, error: unknown): void {
    this.options.logger?.warn(message, {
      subtask: ref ? subtaskKey(ref) : undefined,
      error: error instanceof TidemarkError ? `${error.code}: ${error.message}` : String(error),
    });
  }
}
