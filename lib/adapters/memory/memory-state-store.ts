/** In-memory working-state store: a version-ordered log of items per subtask. */
import { Buffer } from 'node:buffer';
import { ItemTooLargeError } from '../../core/errors.js';
import type { SubtaskRef } from '../../core/ids.js';
import { compareVersions, tableKeys, type StateVersion } from '../../core/wire/storage-keys.js';
import type { StateItem, StateStore } from '../../ports/state-store.js';

/** DynamoDB's item size limit. */
export const DYNAMODB_ITEM_LIMIT = 400 * 1024;

const order = (a: StateItem, b: StateItem) => compareVersions(a.version, b.version) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0);

export class MemoryStateStore implements StateStore {
  private readonly logs = new Map<string, StateItem[]>();
  readonly requests = { read: 0, write: 0, delete: 0 };

  constructor(readonly maxItemBytes = DYNAMODB_ITEM_LIMIT) {}

  private log(job: string, ref: SubtaskRef): StateItem[] {
    const pk = tableKeys.statePk(job as never, ref);
    let log = this.logs.get(pk);
    if (!log) this.logs.set(pk, (log = []));
    return log;
  }

  async latest(job: string, ref: SubtaskRef) {
    this.requests.read++;
    const log = this.log(job, ref);
    const last = log[log.length - 1];
    return last ? { version: last.version, kind: last.kind } : null;
  }

  async readToBase(job: string, ref: SubtaskRef): Promise<StateItem[]> {
    this.requests.read++;
    const log = this.log(job, ref);
    const out: StateItem[] = [];
    for (let i = log.length - 1; i >= 0; i--) {
      out.push(log[i]!);
      if (log[i]!.kind === 'b') break;
    }
    return out;
  }

  private check(job: string, ref: SubtaskRef, item: StateItem): void {
    // Item size as DynamoDB counts it is roughly attribute names plus values.
    const bytes = Buffer.byteLength(item.body) + 64;
    if (bytes > this.maxItemBytes) {
      throw new ItemTooLargeError(`${tableKeys.statePk(job as never, ref)}/${tableKeys.stateSk(item.version, item.kind)}`, bytes, this.maxItemBytes);
    }
  }

  async putIfAbsent(job: string, ref: SubtaskRef, item: StateItem): Promise<boolean> {
    this.requests.write++;
    this.check(job, ref, item);
    const log = this.log(job, ref);
    if (log.some((x) => order(x, item) === 0)) return false;
    this.insert(log, item);
    return true;
  }

  async put(job: string, ref: SubtaskRef, item: StateItem): Promise<void> {
    this.requests.write++;
    this.check(job, ref, item);
    const log = this.log(job, ref);
    const at = log.findIndex((x) => order(x, item) === 0);
    if (at >= 0) log[at] = item;
    else this.insert(log, item);
  }

  private insert(log: StateItem[], item: StateItem): void {
    let i = log.length;
    while (i > 0 && order(log[i - 1]!, item) > 0) i--;
    log.splice(i, 0, item);
  }

  async deleteBefore(job: string, ref: SubtaskRef, version: StateVersion): Promise<void> {
    this.requests.delete++;
    const log = this.log(job, ref);
    const keep = log.filter((x) => compareVersions(x.version, version) >= 0);
    log.splice(0, log.length, ...keep);
  }

  itemCount(): number {
    let n = 0;
    for (const log of this.logs.values()) n += log.length;
    return n;
  }
}
