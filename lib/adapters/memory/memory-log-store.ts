/** In-memory partitioned append-only logs. */
import type { LogEntry, LogStore } from '../../ports/log-store.js';

export class MemoryLogStore implements LogStore {
  private readonly partitions = new Map<string, string[]>();
  readonly requests = { append: 0, read: 0, head: 0 };

  private partition(job: string, log: string, partition: number): string[] {
    const id = `${job}\u0000${log}\u0000${partition}`;
    let p = this.partitions.get(id);
    if (!p) this.partitions.set(id, (p = []));
    return p;
  }

  async append(job: string, log: string, partition: number, values: readonly string[]): Promise<number[]> {
    this.requests.append++;
    const p = this.partition(job, log, partition);
    return values.map((v) => p.push(v) - 1);
  }

  async read(job: string, log: string, partition: number, from: number, below: number, max: number): Promise<LogEntry[]> {
    this.requests.read++;
    const p = this.partition(job, log, partition);
    const out: LogEntry[] = [];
    for (let o = from; o < Math.min(below, p.length) && out.length < max; o++) out.push({ offset: o, value: p[o]! });
    return out;
  }

  async head(job: string, log: string, partition: number): Promise<number> {
    this.requests.head++;
    return this.partition(job, log, partition).length;
  }
}
