/**
 * Reads what an exactly-once sink committed: the commit markers under the sink's
 * `committed/` prefix, in checkpoint order, and the staged parts each one names. Staged
 * parts without a marker (aborted or not yet committed) are never read.
 */
import { MissingDataError } from '../core/errors.js';
import type { JobGraph } from '../core/graph.js';
import type { JobName } from '../core/ids.js';
import { blobKeys } from '../core/wire/storage-keys.js';
import { parseCommitMarkerBody } from '../core/wire/blob-bodies.js';
import type { BlobStore } from '../ports/blob-store.js';
import type { Ports } from '../ports/index.js';
import { decodeObject, formatOf, projected } from './sink-formats.js';
import { sinkSpecOf } from './sink-commit.js';

export interface CommittedOutput<T> {
  readonly records: T[];
  /** Checkpoints that committed output, ascending. */
  readonly checkpoints: number[];
}

export async function readCommitted<T = unknown>(blobs: BlobStore, job: string, sink: string): Promise<CommittedOutput<T>> {
  const markers = await blobs.list(blobKeys.committedPrefix(job as JobName, sink));
  const records: T[] = [];
  const checkpoints = new Set<number>();
  for (const key of markers) {
    const body = await blobs.get(key);
    if (body === null) continue;
    const marker = parseCommitMarkerBody(body);
    checkpoints.add(marker.checkpoint);
    for (const part of marker.parts) {
      const values = await blobs.get(part);
      if (values === null) throw new MissingDataError(part, 'committed part');
      for (const r of JSON.parse(values) as T[]) records.push(r);
    }
  }
  return { records, checkpoints: [...checkpoints].sort((a, b) => a - b) };
}

/**
 * What a sink has committed, whatever its kind, as records: a collect sink's committed
 * parts, an S3 sink's committed objects (in key order), a DynamoDB sink's current rows (one
 * per key, in key order). A print sink keeps nothing: null.
 */
export async function readSinkOutput(ports: Pick<Ports, 'blobs' | 'outputs'>, graph: JobGraph, sink: string): Promise<unknown[] | null> {
  const spec = sinkSpecOf(graph, sink);
  switch (spec.kind) {
    case 'collect':
      return (await readCommitted(ports.blobs, graph.name, sink)).records;
    case 's3': {
      const prefix = blobKeys.jobObject(graph.name, spec.prefix);
      const records: unknown[] = [];
      const binary = formatOf(spec.format).kind === 'parquet';
      for (const key of await ports.blobs.list(prefix)) {
        const body = (binary ? await ports.blobs.getBytes(key) : await ports.blobs.get(key)) ?? '';
        records.push(...(await decodeObject(spec.format, body)));
      }
      return records;
    }
    case 'dynamodb':
      return (await ports.outputs.scan(graph.name, sink)).map((row) => JSON.parse(row.value) as unknown);
    case 'print':
      return null;
  }
}

/**
 * The output a sink should hold after a run that delivered `records` (in order): the same
 * records for append-style sinks (a CSV or Parquet sink's with its columns only); for a
 * DynamoDB sink, the last record of each key.
 */
export function expectedSinkOutput(graph: JobGraph, sink: string, records: readonly unknown[]): unknown[] | null {
  const spec = sinkSpecOf(graph, sink);
  if (spec.kind === 'print') return null;
  if (spec.kind === 's3') return records.map((r) => projected(spec.format, r));
  if (spec.kind !== 'dynamodb') return [...records];
  const last = new Map<string, unknown>();
  for (const r of records) last.set(String(spec.key(r)), r);
  return [...last.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
}
