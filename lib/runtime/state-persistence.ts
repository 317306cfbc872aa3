/**
 * Loads and commits working state through the StateStore port (DESIGN §4 rule 3).
 *
 * A commit is a delta item at version+1 written with put-if-absent: of two invocations that
 * read the same version, exactly one commits. After `rebaseEvery` deltas whose bytes add up
 * to a quarter of the base (or after `maxDeltas` in any case) the whole state is written as
 * a new base and older items are deleted: a big state is not rewritten for small changes,
 * and a cold load never reads more deltas than about the state itself. Any item too big for the store (a
 * DynamoDB item is at most 400 KB) is spilled to the blob store and the item holds a pointer,
 * so state size is bounded by the blob store, not by an item.
 */
import { Buffer } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { TransientStorageError } from '../core/errors.js';
import { generation, type JobName, type SubtaskRef } from '../core/ids.js';
import { blobKeys, compareVersions, type StateVersion } from '../core/wire/storage-keys.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { StateItem, StateStore } from '../ports/state-store.js';
import { WorkingState } from './working-state.js';
import { spilledKeyOf, spillPointerBody, stateBaseBody, stateDeltaBody, type StateBase, type StateDelta } from '../core/wire/state-items.js';

export interface PersistenceOptions {
  /** Fewest deltas between two bases. @default 32 */
  readonly rebaseEvery: number;
  /** Most deltas between two bases. @default 1024 */
  readonly maxDeltas?: number;
}

export const DEFAULT_PERSISTENCE: PersistenceOptions = { rebaseEvery: 32, maxDeltas: 1024 };

/** Version of a subtask that has never been written: older than any generation. */
export const NO_STATE: StateVersion = { gen: generation(0), ver: 0 };

const ITEM_OVERHEAD = 256;
const MAX_LOAD_ATTEMPTS = 5;

export class StatePersistence {
  constructor(
    private readonly job: JobName,
    private readonly store: StateStore,
    private readonly blobs: BlobStore,
    private readonly options: PersistenceOptions = DEFAULT_PERSISTENCE,
    /** Makes spill keys unique per attempt: two racing commits of one version differ. */
    private readonly nonce: () => string = randomUUID,
  ) {}

  latest(ref: SubtaskRef) {
    return this.store.latest(this.job, ref);
  }

  /** Reads the newest base and the deltas after it. A subtask never written loads empty. */
  async load(ref: SubtaskRef): Promise<WorkingState> {
    for (let attempt = 0; attempt < MAX_LOAD_ATTEMPTS; attempt++) {
      const items = await this.store.readToBase(this.job, ref);
      if (items.length === 0) return new WorkingState(NO_STATE);
      const base = items[items.length - 1]!;
      if (base.kind !== 'b') continue; // the base was pruned under us by a concurrent rebase
      const spills: string[] = [];
      const baseBody = await this.body<StateBase>(base, spills);
      const ws = new WorkingState(base.version, new Map(baseBody.value.e), 0, spills, baseBody.bytes, 0, baseBody.value.c);
      const deltas = items.slice(0, -1).filter((i) => compareVersions(i.version, base.version) > 0).reverse();
      let contiguous = true;
      for (const d of deltas) {
        if (d.version.gen !== ws.version.gen || d.version.ver !== ws.version.ver + 1) {
          contiguous = false;
          break;
        }
        const delta = await this.body<StateDelta>(d, spills);
        ws.applyDelta(delta.value);
        ws.version = d.version;
        ws.deltasSinceBase++;
        ws.deltaBytes += delta.bytes;
      }
      if (contiguous) return ws;
    }
    throw new TransientStorageError(`load working state of ${ref.stage}/${ref.index}`);
  }

  /**
   * Commits the changes made since the last commit at `ws.version + 1`. Returns false when
   * another invocation committed that version first (the caller must drop its work).
   */
  async commit(ref: SubtaskRef, ws: WorkingState): Promise<boolean> {
    const delta = ws.takeDelta();
    if (!delta) return true;
    const version = { gen: ws.version.gen, ver: ws.version.ver + 1 };
    const spilled: string[] = [];
    const body = stateDeltaBody(delta);
    const item = await this.item(ref, version, 'd', body, spilled);
    if (!(await this.store.putIfAbsent(this.job, ref, item))) {
      if (spilled.length > 0) await this.blobs.delete(spilled);
      return false;
    }
    ws.spills.push(...spilled);
    ws.version = version;
    ws.deltasSinceBase++;
    ws.deltaBytes += body.length;
    const { rebaseEvery, maxDeltas = 1024 } = this.options;
    if ((ws.deltasSinceBase >= rebaseEvery && ws.deltaBytes * 4 >= ws.baseBytes) || ws.deltasSinceBase >= maxDeltas) {
      await this.rebase(ref, ws);
    }
    return true;
  }

  /** Writes the whole state as a base at its version, then prunes what the base replaces. */
  private async rebase(ref: SubtaskRef, ws: WorkingState): Promise<void> {
    const obsolete = ws.spills;
    ws.spills = [];
    const base = await this.baseItem(ref, ws.version, ws.entries, ws.spills, ws.snapshotKeysChanged());
    await this.store.put(this.job, ref, base.item);
    await this.store.deleteBefore(this.job, ref, ws.version);
    if (obsolete.length > 0) await this.blobs.delete(obsolete);
    ws.deltasSinceBase = 0;
    ws.deltaBytes = 0;
    ws.baseBytes = base.bytes;
  }

  /** A restore's write: the state of a new generation, replacing whatever was there. */
  async writeBase(ref: SubtaskRef, version: StateVersion, entries: Map<string, unknown>): Promise<void> {
    await this.store.put(this.job, ref, (await this.baseItem(ref, version, entries, [])).item);
  }

  private async baseItem(ref: SubtaskRef, version: StateVersion, entries: Map<string, unknown>, spills: string[], changed?: Iterable<string>) {
    const body = stateBaseBody(entries, changed);
    return { item: await this.item(ref, version, 'b', body, spills), bytes: body.length };
  }

  private async item(
    ref: SubtaskRef,
    version: StateVersion,
    kind: 'b' | 'd',
    body: string,
    spills: string[],
  ): Promise<StateItem> {
    // Stores count UTF-8 bytes; a string's length undercounts non-ASCII text.
    if (Buffer.byteLength(body) + ITEM_OVERHEAD <= this.store.maxItemBytes) return { version, kind, body };
    const key = blobKeys.spilledState(this.job, ref, version, kind, this.nonce());
    await this.blobs.put(key, body);
    spills.push(key);
    return { version, kind, body: spillPointerBody(key) };
  }

  /** An item's payload, read from the blob store when it was spilled, and its size. */
  private async body<T>(item: StateItem, spills: string[]): Promise<{ value: T; bytes: number }> {
    const parsed = JSON.parse(item.body) as T;
    const spill = spilledKeyOf(parsed);
    if (spill === undefined) return { value: parsed, bytes: item.body.length };
    const blob = await this.blobs.get(spill);
    if (blob === null) throw new TransientStorageError(`read spilled state ${spill}`);
    spills.push(spill);
    return { value: JSON.parse(blob) as T, bytes: blob.length };
  }
}
