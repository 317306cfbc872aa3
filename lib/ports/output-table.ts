/**
 * Output table port: the exactly-once key-value sink (DynamoDB upserts). Each key holds the
 * latest value and the checkpoint that wrote it; a write from an older checkpoint than the
 * stored one is refused, so replaying a committed transaction can never make a value go
 * back (DESIGN §8).
 *
 * Guarantees: `upsert` is one conditional write (absent, or stored checkpoint ≤ the given
 * one); reads are strongly consistent; `scan` returns every key of a sink, in key order.
 */
export interface OutputRow {
  readonly key: string;
  readonly value: string;
  readonly checkpoint: number;
}

export interface OutputTable {
  /** False when a later checkpoint already wrote the key (nothing changed). */
  upsert(job: string, sink: string, key: string, value: string, checkpoint: number): Promise<boolean>;
  get(job: string, sink: string, key: string): Promise<OutputRow | null>;
  scan(job: string, sink: string): Promise<OutputRow[]>;
}
