/**
 * Log store port: partitioned, append-only logs (the DynamoDB log source). Offsets in a
 * partition start at 0 and have no gaps: every offset below `head` holds a record, and a
 * record, once written, never changes — so reading the same range always gives the same
 * records (replay after restore depends on it).
 *
 * Guarantees: `append` assigns contiguous offsets, in order, to the values it writes, even
 * with concurrent appenders (each record is claimed with a conditional write); reads are
 * strongly consistent.
 */
export interface LogEntry {
  readonly offset: number;
  readonly value: string;
}

export interface LogStore {
  /** Appends to one partition; returns the offsets given to `values`, in order. */
  append(job: string, log: string, partition: number, values: readonly string[]): Promise<number[]>;
  /** Entries with from ≤ offset < below, at most `max`, in offset order. */
  read(job: string, log: string, partition: number, from: number, below: number, max: number): Promise<LogEntry[]>;
  /** The offset the next append will get: every offset below it is readable. */
  head(job: string, log: string, partition: number): Promise<number>;
}
