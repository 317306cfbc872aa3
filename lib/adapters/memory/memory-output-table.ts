/** In-memory output table with the checkpoint guard of the DynamoDB sink. */
import type { OutputRow, OutputTable } from '../../ports/output-table.js';

export class MemoryOutputTable implements OutputTable {
  private readonly rows = new Map<string, Map<string, OutputRow>>();
  readonly requests = { upsert: 0, read: 0 };

  private sink(job: string, sink: string): Map<string, OutputRow> {
    const id = `${job}\u0000${sink}`;
    let m = this.rows.get(id);
    if (!m) this.rows.set(id, (m = new Map()));
    return m;
  }

  async upsert(job: string, sink: string, key: string, value: string, checkpoint: number): Promise<boolean> {
    this.requests.upsert++;
    const rows = this.sink(job, sink);
    const current = rows.get(key);
    if (current && current.checkpoint > checkpoint) return false;
    rows.set(key, { key, value, checkpoint });
    return true;
  }

  async get(job: string, sink: string, key: string): Promise<OutputRow | null> {
    this.requests.read++;
    return this.sink(job, sink).get(key) ?? null;
  }

  async scan(job: string, sink: string): Promise<OutputRow[]> {
    this.requests.read++;
    return [...this.sink(job, sink).values()].sort((a, b) => byCodePoint(a.key, b.key));
  }
}

/**
 * DynamoDB's sort key order: UTF-8 bytes, which is Unicode code point order. JavaScript's `<`
 * compares UTF-16 code units instead, and puts a character above U+FFFF (a surrogate pair,
 * e.g. an emoji) before one in U+E000..U+FFFF.
 */
function byCodePoint(a: string, b: string): number {
  // Up to the first difference both strings have the same code points, so one index serves both.
  for (let i = 0; i < a.length && i < b.length; ) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
  }
  return a.length - b.length;
}
