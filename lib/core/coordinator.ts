/**
 * CheckpointCoordinator: one tick's decisions from observed facts (DESIGN §5). Pure: the
 * runtime reads the job item and recent checkpoint items, calls `decideTick`, and carries
 * out the decisions in order. Several ticks may run at once (schedule heartbeat and timer);
 * every decision is executed with a conditional write, so the loser of a race is a no-op.
 */
import { chainFloor, chainSpan } from './snapshot-chain.js';
import type { CheckpointSettings } from './config.js';
import {
  endsJob,
  isFinal,
  isTombstone,
  totalProgress,
  type CheckpointFailureReason,
  type CheckpointRecord,
  type JobRecord,
} from './manifest.js';
import type { CheckpointId, SubtaskKey } from './ids.js';
import { CANCEL_ABORT_REASON } from './cancel.js';

export interface CoordinatorFacts {
  readonly now: number;
  readonly settings: CheckpointSettings;
  readonly job: JobRecord;
  /** Recent checkpoint items (all pending ones among them), any order. */
  readonly checkpoints: readonly CheckpointRecord[];
  /** Number of source subtasks in the current generation. */
  readonly sourceSubtasks: number;
  /** Subtasks (`stage/index`) of the current generation that hold a sink: each must have
   *  committed the final checkpoint (or the stop-with-savepoint) before the job ends. */
  readonly sinkSubtasks: readonly SubtaskKey[];
  /** A restore whose runner has been silent this long is resumed by the coordinator. */
  readonly restoreLeaseMs: number;
}

export type SkipReason = 'NOT_DUE' | 'MIN_PAUSE' | 'TOO_MANY_CONCURRENT' | 'IDLE' | 'DISABLED' | 'STOPPING' | 'COMMITTING';

export type CoordinatorDecision =
  | { readonly kind: 'abort'; readonly checkpoint: CheckpointId; readonly reason: CheckpointFailureReason }
  | { readonly kind: 'fail-over'; readonly reason: string }
  | { readonly kind: 'restore'; readonly reason: string }
  | { readonly kind: 'resume-restore' }
  | { readonly kind: 'resend-triggers'; readonly checkpoint: CheckpointId }
  | { readonly kind: 'notify-commit'; readonly checkpoint: CheckpointId; readonly last: boolean }
  | { readonly kind: 'finish'; readonly checkpoint: CheckpointId }
  | { readonly kind: 'stop'; readonly checkpoint: CheckpointId }
  | { readonly kind: 'trigger'; readonly savepoint: { readonly name: string; readonly stop: boolean } | null }
  | { readonly kind: 'skip'; readonly reason: SkipReason }
  /** Retention (see `planRetention`): mark `discard` DISCARDED and delete their snapshots;
   *  mark `retire` DISCARDED only (later chains still read them); delete `forget` outright. */
  | {
      readonly kind: 'discard';
      readonly discard: readonly CheckpointId[];
      readonly retire: readonly CheckpointId[];
      readonly forget: readonly CheckpointId[];
    };

/** Items kept for the checkpoint history (Flink's web.checkpoints.history). */
export const CHECKPOINT_HISTORY = 10;

export function decideTick(f: CoordinatorFacts): CoordinatorDecision[] {
  const { job, now, settings } = f;
  if (job.status === 'RESTORING') {
    const stale = job.restore !== null && now - job.restore.startedAt >= f.restoreLeaseMs;
    return stale ? [{ kind: 'resume-restore' }] : [];
  }
  // A canceled job triggers nothing; what a cancel that crashed left pending is aborted.
  if (job.status === 'CANCELED') {
    return f.checkpoints.filter((c) => c.status === 'PENDING').map((c) => ({ kind: 'abort' as const, checkpoint: c.id, reason: CANCEL_ABORT_REASON }));
  }
  if (job.status !== 'RUNNING') return [];
  if (job.failover) {
    return now >= job.failover.restartAt ? [{ kind: 'restore', reason: job.failover.reason }] : [];
  }

  const mine = f.checkpoints.filter((c) => c.gen === job.gen).sort((a, b) => a.id - b.id);
  const decisions: CoordinatorDecision[] = [];
  const expired = new Set<number>();
  for (const cp of mine) {
    if (cp.status === 'PENDING' && now - cp.triggeredAt >= settings.timeout) {
      decisions.push({ kind: 'abort', checkpoint: cp.id, reason: 'CHECKPOINT_EXPIRED' });
      expired.add(cp.id);
    }
  }
  const completed = mine.filter((c) => c.status === 'COMPLETED');
  const latest = completed[completed.length - 1];
  const failedInARow = mine.filter(
    (c) => (c.status === 'ABORTED' || expired.has(c.id)) && c.reason !== 'JOB_RESTORE' && c.id > (latest?.id ?? 0),
  ).length;
  if (failedInARow > settings.tolerableFailedCheckpoints) {
    decisions.push({ kind: 'fail-over', reason: `${failedInARow} consecutive failed checkpoints` });
    return decisions;
  }

  const pending = mine.filter((c) => c.status === 'PENDING' && !expired.has(c.id));
  for (const cp of pending) if (!cp.triggersSent) decisions.push({ kind: 'resend-triggers', checkpoint: cp.id });
  for (const cp of completed) if (!cp.notified) decisions.push({ kind: 'notify-commit', checkpoint: cp.id, last: endsJob(cp) });

  // As in Flink, a job has ended only once its sinks committed the last checkpoint: whoever
  // stops at FINISHED or STOPPED reads complete output.
  if (latest && isFinal(latest)) {
    decisions.push(...endDecisions(latest, 'finish', f));
    return withRetention(decisions, f);
  }
  // Stop-with-savepoint: sources stop at its barrier. Once it completed the job stops; if it
  // failed (or its item was never created), the stopped sources would never resume in this
  // generation, so fail over. Until then nothing else is triggered.
  if (job.stopping !== null) {
    const sp = mine.find((c) => c.id === job.stopping);
    if (sp?.status === 'COMPLETED') {
      decisions.push(...endDecisions(sp, 'stop', f));
      return withRetention(decisions, f);
    }
    const lost = !sp && job.lastTriggerAt !== null && now - job.lastTriggerAt >= settings.timeout;
    if (sp?.status === 'ABORTED' || (sp && expired.has(sp.id)) || lost) {
      decisions.push({ kind: 'fail-over', reason: `stop-with-savepoint ${sp?.savepoint ?? job.stopping} failed` });
      return decisions;
    }
    decisions.push({ kind: 'skip', reason: 'STOPPING' });
    return withRetention(decisions, f);
  }
  decisions.push(triggerDecision(f, pending, completed));
  return withRetention(decisions, f);
}

const sinksCommitted = (cp: CheckpointRecord, f: CoordinatorFacts) =>
  f.sinkSubtasks.every((s) => (cp.committed ?? []).includes(s));

/**
 * The job ends once every sink subtask committed `cp`. Until then it waits; a commit still
 * unreported a checkpoint timeout after completion is notified again (idempotent), so a
 * commit message that went astray cannot keep the job from ending.
 */
function endDecisions(cp: CheckpointRecord, end: 'finish' | 'stop', f: CoordinatorFacts): CoordinatorDecision[] {
  if (sinksCommitted(cp, f)) return [{ kind: end, checkpoint: cp.id }];
  const overdue = cp.notified && cp.completedAt !== null && f.now - cp.completedAt >= f.settings.timeout;
  return [...(overdue ? [{ kind: 'notify-commit' as const, checkpoint: cp.id, last: true }] : []), { kind: 'skip', reason: 'COMMITTING' }];
}

function triggerDecision(
  f: CoordinatorFacts,
  pending: readonly CheckpointRecord[],
  completed: readonly CheckpointRecord[],
): CoordinatorDecision {
  const { job, now, settings } = f;
  if (pending.length >= settings.maxConcurrentCheckpoints) return { kind: 'skip', reason: 'TOO_MANY_CONCURRENT' };
  if (job.savepointRequest) return { kind: 'trigger', savepoint: job.savepointRequest };
  const latest = completed[completed.length - 1];
  const allSourcesDone = f.sourceSubtasks > 0 && job.sourcesFinished.length >= f.sourceSubtasks;
  // The final checkpoint (Flink's FLIP-147): once every source reached end of input, one more
  // checkpoint carries the last records through, even with periodic checkpoints off.
  if (allSourcesDone && pending.length === 0) return { kind: 'trigger', savepoint: null };
  if (settings.interval === null) return { kind: 'skip', reason: 'DISABLED' };
  if (job.lastTriggerAt !== null && now - job.lastTriggerAt < settings.interval) return { kind: 'skip', reason: 'NOT_DUE' };
  if (latest?.completedAt != null && now - latest.completedAt < settings.minPauseBetweenCheckpoints) {
    return { kind: 'skip', reason: 'MIN_PAUSE' };
  }
  const previous = completed[completed.length - 2];
  if (latest && previous && totalProgress(latest) === totalProgress(previous) && latest.activity === job.activity) {
    return { kind: 'skip', reason: 'IDLE' };
  }
  return { kind: 'trigger', savepoint: null };
}

function withRetention(decisions: CoordinatorDecision[], f: CoordinatorFacts): CoordinatorDecision[] {
  const plan = planRetention(f.checkpoints, f.job, f.settings.retained, chainSpan(f.settings));
  if (plan.discard.length > 0 || plan.retire.length > 0 || plan.forget.length > 0) decisions.push({ kind: 'discard', ...plan });
  return decisions;
}

/**
 * Retention. `discard`: completed checkpoints beyond the newest `retained` — their snapshots
 * go, their items stay as DISCARDED for the history. `forget`: discarded and aborted ones that
 * fell out of the history window (the last CHECKPOINT_HISTORY ids), older than the newest
 * completed one — items go (with any snapshot a crash left behind). Never a savepoint, never a
 * tombstone (a late trigger of its id must still find it: manifest.ts isTombstone), never a
 * pending checkpoint, never the checkpoint a restore is reading, never the base of a generation
 * with none of its own.
 *
 * Snapshots chain (core/snapshot-chain.ts): one in checkpoint N may read the objects of any
 * checkpoint down to N - chainSpan + 1, aborted or discarded ones included. So objects go only
 * when out of reach of everything a restore may still read — the kept checkpoints, the pending
 * ones and those to come (`span`: the chain span of the next ones) reaches back to; a
 * completed checkpoint within that reach is `retire`d (marked, its objects kept) and its
 * objects go when it is forgotten, once out of reach. This needs no snapshot read: the bound
 * on a chain's reach is the whole reference count.
 */
export function planRetention(
  checkpoints: readonly CheckpointRecord[],
  job: Pick<JobRecord, 'restore' | 'lineage' | 'nextCheckpointId'>,
  retained: number,
  span = 1,
): { discard: CheckpointId[]; retire: CheckpointId[]; forget: CheckpointId[] } {
  const restoring = job.restore?.from?.kind === 'checkpoint' ? job.restore.from.checkpoint : null;
  const keep = new Set<number>();
  // The lineage's base is what a failover returns to until its generation completes a checkpoint.
  const { gen, base } = job.lineage;
  if (base !== null && !checkpoints.some((c) => c.gen === gen && c.status === 'COMPLETED')) keep.add(base);
  const completed = checkpoints
    .filter((c) => c.status === 'COMPLETED' && c.savepoint === null)
    .sort((a, b) => b.id - a.id);
  for (const c of completed.slice(0, retained)) keep.add(c.id);
  const newestCompleted = completed[0]?.id ?? 0;
  const history = [...checkpoints].sort((a, b) => b.id - a.id).slice(0, CHECKPOINT_HISTORY);
  const chainedOnto = chainReach(
    checkpoints.filter((c) => keep.has(c.id) || c.status === 'PENDING' || c.id === restoring),
    chainFloor(job.nextCheckpointId, span),
  );
  const discard: CheckpointId[] = [];
  const retire: CheckpointId[] = [];
  const forget: CheckpointId[] = [];
  for (const c of checkpoints) {
    if (c.savepoint !== null || c.status === 'PENDING' || c.id === restoring || keep.has(c.id)) continue;
    if (c.status === 'COMPLETED') (chainedOnto(c.id) ? retire : discard).push(c.id);
    else if (c.id < newestCompleted && !chainedOnto(c.id) && !history.includes(c) && !isTombstone(c)) forget.push(c.id);
  }
  const ascending = (a: number, b: number) => a - b;
  return { discard: discard.sort(ascending), retire: retire.sort(ascending), forget: forget.sort(ascending) };
}

/** Whether a snapshot of a `needed` checkpoint, or of one to come (from `future` on, their
 *  floor), may chain onto the objects of checkpoint `id`. Chains only reach back, at most
 *  `chainSpan - 1` ids; savepoints are whole and chain onto nothing. */
function chainReach(needed: readonly CheckpointRecord[], future: number): (id: number) => boolean {
  const reaches = needed.filter((c) => c.savepoint === null && c.chainSpan > 1);
  return (id) => id >= future || reaches.some((c) => id < c.id && id >= chainFloor(c.id, c.chainSpan));
}
