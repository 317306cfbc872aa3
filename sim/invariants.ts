/**
 * Invariants checked at every step of a simulated run, not only at its end. The monitor sits
 * between the memory adapters and the scheduler's instrumentation, so it sees every write as
 * it lands and checks the store right after it:
 *
 * - a checkpoint's status only moves forward (PENDING → COMPLETED | ABORTED, then never again);
 * - the job's generation only grows;
 * - a sink transaction becomes visible (its commit marker is written) only when a checkpoint
 *   at or after the one that sealed it completed in the generation that staged it — so output
 *   of an aborted checkpoint waits for a later completed one, and output of a generation a
 *   restore superseded past its last completed checkpoint never shows;
 * - FINISHED implies committed: the moment the job item says FINISHED, every sink already
 *   holds its whole output (`checkFinished` compares it with the sequential evaluation).
 */
import type { MemoryPorts } from '../lib/adapters/memory/index.js';
import type { CheckpointStatus, JobRecord } from '../lib/core/manifest.js';
import { blobKeys, parseCheckpointObject, parseCommitMarker, parseStagedPart } from '../lib/core/wire/storage-keys.js';
import { checkpointId, type JobName, type SubtaskRef } from '../lib/core/ids.js';
import { decodeSnapshot } from '../lib/runtime/snapshot.js';
import { parseCommitMarkerBody } from '../lib/core/wire/blob-bodies.js';

export interface MonitorOptions {
  readonly job: string;
  /** Differences between what the sinks hold now and the full expected output. */
  readonly outputDifferences: () => Promise<string[]>;
}

const FORWARD: Record<CheckpointStatus, readonly CheckpointStatus[]> = {
  PENDING: ['PENDING', 'COMPLETED', 'ABORTED'],
  COMPLETED: ['COMPLETED', 'DISCARDED'],
  ABORTED: ['ABORTED'],
  DISCARDED: ['DISCARDED'],
};

const CHECKPOINT_WRITES = new Set(['createCheckpoint', 'ack', 'abort', 'mark', 'markCommitted', 'discardCheckpoint']);

export class InvariantMonitor {
  readonly violations: string[] = [];
  /** Checkpoint id → last status seen (ids are unique across generations). */
  private readonly statuses = new Map<number, CheckpointStatus>();
  /** Generation → ids of its checkpoints seen COMPLETED. */
  private readonly completed = new Map<number, number[]>();
  private gen = 0;
  private finishedChecked = false;

  constructor(private readonly options: MonitorOptions) {}

  /** The memory ports with the manifest and blob store watched. */
  watch(memory: MemoryPorts): MemoryPorts {
    const manifest = memory.manifest;
    const watchedManifest = new Proxy(manifest, {
      get: (obj, prop, receiver) => {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const result = await (value as (...a: unknown[]) => unknown).apply(obj, args);
          if (CHECKPOINT_WRITES.has(String(prop))) await this.afterCheckpointWrite(memory, args);
          if (prop === 'putJob') await this.afterJobWrite(memory);
          return result;
        };
      },
    });
    const blobs = memory.blobs;
    const watchedBlobs = new Proxy(blobs, {
      get: (obj, prop, receiver) => {
        const value = Reflect.get(obj, prop, receiver);
        if (typeof value !== 'function') return value;
        if (prop === 'delete') {
          return async (keys: readonly string[]) => {
            await this.beforeBlobDelete(memory, keys);
            return (value as (...a: unknown[]) => unknown).apply(obj, [keys]);
          };
        }
        if (prop !== 'put') return value.bind(obj);
        return async (key: string, body: string, opts?: unknown) => {
          this.beforeBlobPut(key, body);
          return (value as (...a: unknown[]) => unknown).apply(obj, [key, body, opts]);
        };
      },
    });
    return Object.assign(Object.create(Object.getPrototypeOf(memory) as object) as MemoryPorts, memory, {
      manifest: watchedManifest,
      blobs: watchedBlobs,
    });
  }

  private async afterCheckpointWrite(memory: MemoryPorts, args: unknown[]): Promise<void> {
    const id = typeof args[1] === 'number' ? args[1] : (args[1] as { id: number } | undefined)?.id;
    if (typeof id !== 'number') return;
    const record = await memory.manifest.getCheckpoint(this.options.job, id as never);
    if (!record) return;
    const before = this.statuses.get(id);
    if (before && !FORWARD[before].includes(record.status)) {
      this.violations.push(`checkpoint ${id} went from ${before} back to ${record.status}`);
    }
    this.statuses.set(id, record.status);
    if (record.status === 'COMPLETED') {
      const ids = this.completed.get(record.gen) ?? [];
      if (!ids.includes(id)) this.completed.set(record.gen, [...ids, id]);
    }
  }

  private async afterJobWrite(memory: MemoryPorts): Promise<void> {
    const job = await memory.manifest.getJob(this.options.job);
    if (!job) return;
    if (job.gen < this.gen) this.violations.push(`generation went back from ${this.gen} to ${job.gen}`);
    this.gen = Math.max(this.gen, job.gen);
    if (job.status === 'FINISHED' && !this.finishedChecked) await this.checkFinished(job);
  }

  private async checkFinished(job: JobRecord): Promise<void> {
    this.finishedChecked = true;
    const differences = await this.options.outputDifferences();
    if (differences.length > 0) {
      this.violations.push(`FINISHED (${job.detail}) before its output was committed: ${differences.slice(0, 3).join('; ')}`);
    }
  }

  /** Retention deletes a checkpoint's snapshots only once no restore can pick it: never while
   *  it is PENDING or COMPLETED, nor while a PENDING or COMPLETED checkpoint's snapshot chains onto them. */
  private async beforeBlobDelete(memory: MemoryPorts, keys: readonly string[]): Promise<void> {
    const ids = new Set(keys.flatMap((k) => parseCheckpointObject(k)?.checkpoint ?? []));
    if (ids.size === 0) return;
    for (const id of ids) {
      const record = await memory.manifest.getCheckpoint(this.options.job, id);
      if (record && (record.status === 'COMPLETED' || record.status === 'PENDING')) {
        this.violations.push(`the snapshots of checkpoint ${id} were deleted while it was ${record.status}`);
      }
    }
    await this.checkChainsIntact(memory, new Set(keys));
  }

  private async checkChainsIntact(memory: MemoryPorts, deleting: ReadonlySet<string>): Promise<void> {
    const job = this.options.job as JobName;
    for (const c of await memory.manifest.listCheckpoints(job)) {
      if (c.status !== 'COMPLETED' && c.status !== 'PENDING') continue;
      for (const key of await memory.blobs.list(blobKeys.checkpointPrefix(job, c.id))) {
        if (deleting.has(key)) continue;
        const body = await memory.blobs.get(key);
        const snap = body === null ? null : decodeSnapshot(body, key);
        if (snap?.v !== 2) continue;
        const ref = { stage: snap.stage, index: snap.subtask } as SubtaskRef;
        for (const id of snap.chain) {
          if (deleting.has(blobKeys.snapshot(job, checkpointId(id), ref))) {
            this.violations.push(`the snapshot of ${snap.stage}/${snap.subtask} in checkpoint ${id} was deleted while checkpoint ${c.id} (${c.status}) chains onto it`);
          }
        }
      }
    }
  }

  /** A commit marker makes a transaction visible: its checkpoint must be covered. */
  private beforeBlobPut(key: string, body: string): void {
    const marker = parseCommitMarker(key);
    if (!marker) return;
    const { parts } = parseCommitMarkerBody(body);
    for (const part of parts) {
      const staged = parseStagedPart(part);
      if (!staged) {
        this.violations.push(`commit marker ${key} names ${part}, not a staged part`);
        continue;
      }
      const covered = (this.completed.get(staged.gen) ?? []).some((id) => id >= marker.checkpoint);
      if (!covered) {
        this.violations.push(
          `sink ${marker.sink} committed the transaction of checkpoint ${marker.checkpoint} (generation ${staged.gen}) without a completed checkpoint covering it`,
        );
      }
    }
  }
}
