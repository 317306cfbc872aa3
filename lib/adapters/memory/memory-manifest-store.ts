/**
 * In-memory manifest: the job item and checkpoint items, with the same atomic transitions
 * the DynamoDB store makes with conditional writes. Stored records are deep-frozen copies
 * and are replaced, never changed, so readers can share them safely.
 */
import type { CheckpointId, SubtaskKey } from '../../core/ids.js';
import {
  abortedTombstone,
  applyAck,
  type AckInfo,
  type AckOutcome,
  type CheckpointFailureReason,
  type CheckpointRecord,
  type JobRecord,
} from '../../core/manifest.js';
import type { ManifestStore } from '../../ports/manifest-store.js';

function freeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) freeze(v);
  }
  return value;
}
const copy = <T>(value: T): T => freeze(structuredClone(value));

export class MemoryManifestStore implements ManifestStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly checkpoints = new Map<string, Map<number, CheckpointRecord>>();
  readonly requests = { read: 0, write: 0 };

  private items(job: string): Map<number, CheckpointRecord> {
    let m = this.checkpoints.get(job);
    if (!m) this.checkpoints.set(job, (m = new Map()));
    return m;
  }

  async getJob(job: string): Promise<JobRecord | null> {
    this.requests.read++;
    return this.jobs.get(job) ?? null;
  }

  async putJob(record: JobRecord, expectedVersion: number | null): Promise<boolean> {
    this.requests.write++;
    const current = this.jobs.get(record.job);
    if (expectedVersion === null ? current !== undefined : current?.version !== expectedVersion) return false;
    this.jobs.set(record.job, copy({ ...record, version: (expectedVersion ?? -1) + 1 }));
    return true;
  }

  async getCheckpoint(job: string, id: CheckpointId): Promise<CheckpointRecord | null> {
    this.requests.read++;
    return this.items(job).get(id) ?? null;
  }

  async listCheckpoints(job: string, options: { limit?: number } = {}): Promise<CheckpointRecord[]> {
    this.requests.read++;
    const all = [...this.items(job).values()].sort((a, b) => b.id - a.id);
    return options.limit === undefined ? all : all.slice(0, options.limit);
  }

  async createCheckpoint(job: string, record: CheckpointRecord): Promise<boolean> {
    this.requests.write++;
    const items = this.items(job);
    if (items.has(record.id)) return false;
    items.set(record.id, copy(record));
    return true;
  }

  async ack(job: string, id: CheckpointId, subtask: SubtaskKey, info: AckInfo, now: number): Promise<AckOutcome> {
    this.requests.write++;
    const items = this.items(job);
    const outcome = applyAck(items.get(id), subtask, info, now);
    if (outcome.kind === 'acked' || outcome.kind === 'completed') items.set(id, copy(outcome.record));
    return outcome;
  }

  async abort(
    job: string,
    id: CheckpointId,
    reason: CheckpointFailureReason,
    now: number,
    tombstone?: { gen: number },
  ): Promise<boolean> {
    this.requests.write++;
    const items = this.items(job);
    const current = items.get(id);
    if (!current) {
      if (!tombstone) return false;
      items.set(id, freeze(abortedTombstone(id, tombstone.gen, reason, now)));
      return true;
    }
    if (current.status !== 'PENDING') return false;
    items.set(id, freeze({ ...current, status: 'ABORTED', reason, completedAt: now }));
    return true;
  }

  async mark(job: string, id: CheckpointId, flag: 'triggersSent' | 'notified'): Promise<void> {
    this.requests.write++;
    const items = this.items(job);
    const current = items.get(id);
    if (current) items.set(id, freeze({ ...current, [flag]: true }));
  }

  async markCommitted(job: string, id: CheckpointId, subtask: SubtaskKey): Promise<void> {
    this.requests.write++;
    const items = this.items(job);
    const current = items.get(id);
    if (current && !current.committed.includes(subtask)) items.set(id, freeze({ ...current, committed: [...current.committed, subtask] }));
  }

  async discardCheckpoint(job: string, id: CheckpointId): Promise<boolean> {
    this.requests.write++;
    const items = this.items(job);
    const current = items.get(id);
    if (current?.status !== 'COMPLETED') return false;
    items.set(id, freeze({ ...current, status: 'DISCARDED' }));
    return true;
  }

  async deleteCheckpoint(job: string, id: CheckpointId): Promise<void> {
    this.requests.write++;
    this.items(job).delete(id);
  }
}
