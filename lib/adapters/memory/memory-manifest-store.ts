/**
 * In-memory manifest: the job item, checkpoint items and ack items, with the same atomic
 * transitions the DynamoDB store makes with conditional writes (core/checkpoint-acks for
 * acks). Stored records are deep-frozen copies and are replaced, never changed, so readers
 * can share them safely.
 *
 * `requests.writeUnits` counts what DynamoDB would bill for the same writes (core/cost):
 * an ack is the put of its item and the update of the checkpoint item in one transaction, a
 * completion one more update of the checkpoint item.
 */
import { admitAck, awaitsCompletion, completedRecord, countAck, settledAck } from '../../core/checkpoint-acks.js';
import type { CheckpointId, SubtaskKey } from '../../core/ids.js';
import {
  abortedTombstone,
  type AckInfo,
  type AckOutcome,
  type CheckpointAcks,
  type CheckpointFailureReason,
  type CheckpointRecord,
  type JobRecord,
} from '../../core/manifest.js';
import { dynamodbWriteUnits, utf8Bytes } from '../../core/cost.js';
import type { ManifestStore } from '../../ports/manifest-store.js';

function freeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) freeze(v);
  }
  return value;
}
const copy = <T>(value: T): T => freeze(structuredClone(value));
/** An item's size as the DynamoDB store would write it, near enough: its JSON. */
const size = (value: unknown) => utf8Bytes(JSON.stringify(value));

export class MemoryManifestStore implements ManifestStore {
  private readonly jobs = new Map<string, JobRecord>();
  private readonly checkpoints = new Map<string, Map<number, CheckpointRecord>>();
  private readonly ackItems = new Map<string, Map<number, Map<string, AckInfo>>>();
  readonly requests = { read: 0, write: 0, writeUnits: 0 };

  private items(job: string): Map<number, CheckpointRecord> {
    let m = this.checkpoints.get(job);
    if (!m) this.checkpoints.set(job, (m = new Map()));
    return m;
  }

  private acksOf(job: string, id: number): Map<string, AckInfo> {
    let byId = this.ackItems.get(job);
    if (!byId) this.ackItems.set(job, (byId = new Map()));
    let m = byId.get(id);
    if (!m) byId.set(id, (m = new Map()));
    return m;
  }

  /** Counts one write request of the given items (bytes), in a transaction or not. */
  private bill(bytes: readonly number[], transactional = false): void {
    this.requests.write++;
    for (const b of bytes) this.requests.writeUnits += dynamodbWriteUnits(b, { transactional });
  }

  /** Replaces a checkpoint item, billing the larger of before and after, as an update is. */
  private replace(job: string, next: CheckpointRecord, before: CheckpointRecord): void {
    this.items(job).set(next.id, freeze(next));
    this.bill([Math.max(size(before), size(next))]);
  }

  async getJob(job: string): Promise<JobRecord | null> {
    this.requests.read++;
    return this.jobs.get(job) ?? null;
  }

  async putJob(record: JobRecord, expectedVersion: number | null): Promise<boolean> {
    const current = this.jobs.get(record.job);
    this.bill([size(record)]);
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

  async listAcks(job: string, id: CheckpointId): Promise<CheckpointAcks> {
    this.requests.read++;
    return freeze(Object.fromEntries(this.acksOf(job, id)));
  }

  async createCheckpoint(job: string, record: CheckpointRecord): Promise<boolean> {
    this.bill([size(record)]);
    const items = this.items(job);
    if (items.has(record.id)) return false;
    items.set(record.id, copy(record));
    return true;
  }

  async ack(job: string, id: CheckpointId, subtask: SubtaskKey, info: AckInfo, now: number): Promise<AckOutcome> {
    const acks = this.acksOf(job, id);
    const current = this.items(job).get(id) ?? null;
    const admission = admitAck(current, subtask, acks.has(subtask));
    // The transaction is billed whether or not its conditions held.
    this.bill([size({ subtask, info }), size(current ?? {})], true);
    if (admission.kind === 'rejected') return admission;
    let record = current!;
    if (admission.kind === 'count') {
      acks.set(subtask, copy(info));
      record = countAck(record, info);
      this.items(job).set(id, freeze(record));
    }
    if (!awaitsCompletion(record)) return settledAck(record, admission.kind === 'count');
    const done = completedRecord(record, now);
    this.replace(job, done, record);
    return { kind: 'completed', record: done };
  }

  async abort(
    job: string,
    id: CheckpointId,
    reason: CheckpointFailureReason,
    now: number,
    tombstone?: { gen: number },
  ): Promise<boolean> {
    const items = this.items(job);
    const current = items.get(id);
    if (!current) {
      this.bill([0]);
      if (!tombstone) return false;
      const dead = freeze(abortedTombstone(id, tombstone.gen, reason, now));
      this.replace(job, dead, dead);
      return true;
    }
    if (current.status !== 'PENDING') return (this.bill([size(current)]), false);
    this.replace(job, { ...current, status: 'ABORTED', reason, completedAt: now }, current);
    return true;
  }

  async mark(job: string, id: CheckpointId, flag: 'triggersSent' | 'notified'): Promise<void> {
    const current = this.items(job).get(id);
    if (current) this.replace(job, { ...current, [flag]: true }, current);
    else this.bill([0]);
  }

  async markCommitted(job: string, id: CheckpointId, subtask: SubtaskKey): Promise<void> {
    const current = this.items(job).get(id);
    if (!current) return this.bill([0]);
    const committed = current.committed.includes(subtask) ? current.committed : [...current.committed, subtask].sort();
    this.replace(job, { ...current, committed }, current);
  }

  async discardCheckpoint(job: string, id: CheckpointId): Promise<boolean> {
    const current = this.items(job).get(id);
    if (current?.status !== 'COMPLETED') return (this.bill([size(current ?? {})]), false);
    this.replace(job, { ...current, status: 'DISCARDED' }, current);
    return true;
  }

  async deleteCheckpoint(job: string, id: CheckpointId): Promise<void> {
    const acks = this.acksOf(job, id);
    for (const [subtask, info] of acks) this.bill([size({ subtask, info })]);
    this.ackItems.get(job)?.delete(id);
    this.bill([size(this.items(job).get(id) ?? {})]);
    this.items(job).delete(id);
  }
}
