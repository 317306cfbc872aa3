/**
 * Commits one staged sink transaction (the parts an exactly-once sink staged between two
 * barriers), after its checkpoint completed — from a `commit` envelope, or by a restore that
 * found it in its snapshot. Idempotent: the commit marker is written last and, once there,
 * means done; every write before it is conditional or a same-value rewrite.
 *   collect   the marker itself (readers follow it to the parts)
 *   s3        one object per transaction under the sink's prefix (NDJSON, CSV or Parquet:
 *             sink-formats.ts), then the marker
 *   dynamodb  an upsert per record, in order, guarded by the checkpoint id, then the marker
 */
import type { SinkTransactionRef } from '../core/effects.js';
import type { JobGraph, SinkSpec } from '../core/graph.js';
import { InvariantError, MissingDataError } from '../core/errors.js';
import { checkpointId } from '../core/ids.js';
import { blobKeys } from '../core/wire/storage-keys.js';
import { commitMarkerBody } from '../core/wire/blob-bodies.js';
import type { Ports } from '../ports/index.js';
import { encodeObject, extensionOf } from './sink-formats.js';

export async function commitTransaction(ports: Pick<Ports, 'blobs' | 'outputs'>, graph: JobGraph, txn: SinkTransactionRef): Promise<void> {
  const spec = sinkSpecOf(graph, txn.op);
  const marker = blobKeys.commitMarker(graph.name, txn.op, checkpointId(txn.checkpoint), txn.subtask);
  if (spec.kind !== 'collect' && (await ports.blobs.get(marker)) !== null) return;
  if (spec.kind === 's3' || spec.kind === 'dynamodb') {
    const records = await readParts(ports, txn.parts);
    if (spec.kind === 's3') {
      const key = blobKeys.s3SinkObject(graph.name, spec.prefix, txn.checkpoint, txn.subtask, extensionOf(spec.format));
      await ports.blobs.put(key, encodeObject(spec.format, records), { ifAbsent: true });
    } else {
      for (const record of records) {
        await ports.outputs.upsert(graph.name, txn.op, String(spec.key(record)), JSON.stringify(record), txn.checkpoint);
      }
    }
  }
  await ports.blobs.put(marker, commitMarkerBody({ checkpoint: txn.checkpoint, subtask: txn.subtask, parts: txn.parts }), { ifAbsent: true });
}

/** The spec of sink `op`; callers name sinks of the job's own graph, so anything else is a bug. */
export function sinkSpecOf(graph: JobGraph, op: string): SinkSpec {
  const node = graph.operators.find((o) => o.name === op);
  if (!node || node.spec.kind !== 'sink') throw new InvariantError(`${op} is not a sink of job ${graph.name}`);
  return node.spec.sink;
}

async function readParts(ports: Pick<Ports, 'blobs'>, parts: readonly string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const key of parts) {
    const body = await ports.blobs.get(key);
    if (body === null) throw new MissingDataError(key, 'staged part');
    for (const r of JSON.parse(body) as unknown[]) out.push(r);
  }
  return out;
}
