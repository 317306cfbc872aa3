/**
 * The coordinator role: one tick reads the job item and recent checkpoints, asks core for
 * decisions, and carries them out. Ticks may overlap (schedule heartbeat and timer); each
 * step is a conditional write or an idempotent send, so the loser of a race does nothing.
 */
import { CHECKPOINT_HISTORY, decideTick, type CoordinatorDecision, type CoordinatorFacts } from '../core/coordinator.js';
import type { CheckpointSettings } from '../core/config.js';
import type { JobGraph } from '../core/graph.js';
import { checkpointId, subtaskKey, type CheckpointId } from '../core/ids.js';
import { chainSpan } from '../core/snapshot-chain.js';
import { newCheckpointRecord, type CheckpointFailureReason, type JobRecord } from '../core/manifest.js';
import { blobKeys } from '../core/wire/storage-keys.js';
import { compileTopology, subtasksOf, type Topology } from '../core/topology.js';
import type { Ports } from '../ports/index.js';
import { sinkStages, sourceStages } from '../core/function-spec.js';
import { sendCommits, sendTriggers } from './control-messages.js';
import { jobFailure, requestFailover } from './failover.js';
import { updateJob } from './job-records.js';
import { RecoveryManager } from './recovery-manager.js';

export interface TickReport {
  readonly decisions: CoordinatorDecision[];
  readonly triggered: CheckpointId | null;
}

export interface CoordinatorOptions {
  /** Told of every checkpoint the coordinator aborts (the Lambda emits a CloudWatch metric). */
  readonly onCheckpointFailed?: (checkpoint: CheckpointId, reason: CheckpointFailureReason) => void;
  /** How many recent checkpoint items a tick reads. @default 64, or more when retention needs more (retained + chain span + history) */
  readonly window?: number;
  /** A restore silent this long is resumed by a tick. @default 60 s */
  readonly restoreLeaseMs?: number;
  readonly random?: () => number;
  /** The tick's decision function. The simulation wraps it to prove it catches a broken one.
   *  @default decideTick */
  readonly decide?: (facts: CoordinatorFacts) => CoordinatorDecision[];
}

/** Enough of the newest checkpoint items for retention to see every one it may still have
 *  to delete: the retained ones, what they chain onto, the history, the pending ones. */
const itemsToRead = (s: CheckpointSettings): number => Math.max(64, s.retained + chainSpan(s) + CHECKPOINT_HISTORY + s.maxConcurrentCheckpoints + 8);

export class CoordinatorRuntime {
  constructor(
    private readonly graph: JobGraph,
    private readonly ports: Ports,
    private readonly recovery: RecoveryManager,
    private readonly options: CoordinatorOptions = {},
  ) {}

  async tick(): Promise<TickReport> {
    const { manifest, clock } = this.ports;
    const job = await manifest.getJob(this.graph.name);
    if (!job) return { decisions: [], triggered: null };
    const checkpoints = await manifest.listCheckpoints(this.graph.name, { limit: this.options.window ?? itemsToRead(this.graph.checkpoints) });
    const topology = compileTopology(this.graph, job.parallelism);
    const decisions = (this.options.decide ?? decideTick)({
      now: clock.now(),
      settings: this.graph.checkpoints,
      job,
      checkpoints,
      sourceSubtasks: sourceStages(topology).reduce((n, s) => n + s.parallelism, 0),
      sinkSubtasks: subtasksOf({ ...topology, stages: sinkStages(topology) }).map(subtaskKey),
      restoreLeaseMs: this.options.restoreLeaseMs ?? 60_000,
    });
    let triggered: CheckpointId | null = null;
    for (const d of decisions) {
      const id = await this.execute(d, job, topology);
      if (id !== null) triggered = id;
    }
    return { decisions, triggered };
  }

  private async execute(d: CoordinatorDecision, job: JobRecord, topology: Topology): Promise<CheckpointId | null> {
    const { manifest, clock } = this.ports;
    const name = this.graph.name;
    switch (d.kind) {
      case 'abort':
        if (await manifest.abort(name, d.checkpoint, d.reason, clock.now())) this.options.onCheckpointFailed?.(d.checkpoint, d.reason);
        return null;
      case 'fail-over':
        await requestFailover(manifest, name, this.graph.restart, job.gen, jobFailure('CHECKPOINT_FAILURE', d.reason), clock.now(), (this.options.random ?? Math.random)());
        return null;
      case 'restore':
        await this.recovery.restore({ request: { kind: 'latest' }, reason: d.reason, expectGen: job.gen });
        return null;
      case 'resume-restore':
        await this.recovery.resume();
        return null;
      case 'resend-triggers': {
        const cp = await manifest.getCheckpoint(name, d.checkpoint);
        if (cp?.status !== 'PENDING') return null;
        await sendTriggers(this.ports, topology, job.gen, d.checkpoint, cp.stop, cp.savepoint !== null, cp.triggeredAt);
        await manifest.mark(name, d.checkpoint, 'triggersSent');
        return null;
      }
      case 'notify-commit':
        await sendCommits(this.ports, topology, job.gen, d.checkpoint, d.last);
        await manifest.mark(name, d.checkpoint, 'notified');
        return null;
      case 'finish':
      case 'stop':
        await updateJob(manifest, name, (j) =>
          j.gen === job.gen && j.status === 'RUNNING'
            ? { ...j, status: d.kind === 'finish' ? 'FINISHED' : 'STOPPED', detail: `after checkpoint ${d.checkpoint}` }
            : null,
        );
        return null;
      case 'trigger':
        return this.trigger(job, topology, d.savepoint);
      case 'skip':
        return null;
      case 'discard':
        // Marked DISCARDED before its snapshots go, so no restore ever picks a checkpoint whose
        // state is (partly) deleted; a crash in between leaves a DISCARDED item whose remains
        // `forget` deletes once it leaves the history window, item last.
        // All are marked before any snapshot goes: a discarded checkpoint's objects may be
        // chained onto by another one discarded with it. `retire`d ones are still read by
        // later chains: their objects go when they are forgotten.
        const marked: CheckpointId[] = [];
        for (const id of d.discard) if (await manifest.discardCheckpoint(name, id)) marked.push(id);
        for (const id of d.retire) await manifest.discardCheckpoint(name, id);
        for (const id of marked) await this.deleteSnapshots(id);
        for (const id of d.forget) {
          await this.deleteSnapshots(id);
          await manifest.deleteCheckpoint(name, id);
        }
        return null;
    }
  }

  private async deleteSnapshots(id: CheckpointId): Promise<void> {
    const keys = await this.ports.blobs.list(blobKeys.checkpointPrefix(this.graph.name, id));
    if (keys.length > 0) await this.ports.blobs.delete(keys);
  }

  /**
   * Allocates the next id with a conditional write on the job item (which also fences it
   * against a concurrent restore), creates the PENDING item, then sends the triggers.
   */
  private async trigger(job: JobRecord, topology: Topology, savepoint: { name: string; stop: boolean } | null) {
    const { manifest, clock } = this.ports;
    let id: CheckpointId | null = null;
    const now = clock.now();
    const allocated = await updateJob(manifest, this.graph.name, (j) => {
      if (j.gen !== job.gen || j.status !== 'RUNNING' || j.nextCheckpointId !== job.nextCheckpointId) return null;
      id = checkpointId(j.nextCheckpointId);
      return {
        ...j,
        nextCheckpointId: j.nextCheckpointId + 1,
        lastTriggerAt: now,
        savepointRequest: savepoint ? null : j.savepointRequest,
        stopping: savepoint?.stop ? id : j.stopping,
      };
    });
    if (!allocated || id === null) return null;
    const record = newCheckpointRecord({
      id,
      gen: job.gen,
      stages: Object.fromEntries(topology.stages.map((s) => [s.id, s.parallelism])),
      now,
      savepoint,
      activity: allocated.activity,
      // A savepoint's snapshots are whole.
      chainSpan: savepoint ? 1 : chainSpan(this.graph.checkpoints),
    });
    if (!(await manifest.createCheckpoint(this.graph.name, record))) return null;
    await sendTriggers(this.ports, topology, job.gen, id, record.stop, record.savepoint !== null, record.triggeredAt);
    await manifest.mark(this.graph.name, id, 'triggersSent');
    return id;
  }
}
