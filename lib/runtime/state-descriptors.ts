/**
 * State descriptors at the edge: the recovery manager writes each generation's before the
 * generation runs, and reads the one of the checkpoint a restore would start from to check
 * the new graph against it (core/state-compatibility.ts decides) before anything is written.
 */
import { RestoreError } from '../core/errors.js';
import type { JobGraph } from '../core/graph.js';
import type { Generation, JobName } from '../core/ids.js';
import type { RestoreRequest } from '../core/manifest.js';
import { chooseCheckpoint } from '../core/recovery.js';
import { checkStateCompatibility, requireCompatible, restoreOrigin } from '../core/state-compatibility.js';
import { describeState } from '../core/state-descriptor.js';
import { encodeStateDescriptor, parseStateDescriptor, type StateDescriptor } from '../core/wire/state-descriptor.js';
import { blobKeys } from '../core/wire/storage-keys.js';
import type { Ports } from '../ports/index.js';

/** Records which state the operators of `graph`, run by generation `gen`, hold (idempotent). */
export async function writeStateDescriptor(ports: Pick<Ports, 'blobs'>, graph: JobGraph, gen: Generation): Promise<void> {
  await ports.blobs.put(blobKeys.stateDescriptor(graph.name, gen), encodeStateDescriptor(describeState(graph, gen)));
}

/** The state descriptor of generation `gen`; null for one from before descriptors were written. */
export async function readStateDescriptor(ports: Pick<Ports, 'blobs'>, job: JobName, gen: Generation): Promise<StateDescriptor | null> {
  const key = blobKeys.stateDescriptor(job, gen);
  const body = await ports.blobs.get(key);
  return body === null ? null : parseStateDescriptor(body, key);
}

/**
 * Whether `graph` can take the state of what `request` would restore now: the notes to tell
 * the user (operators that start empty, state dropped), or a StateCompatibilityError naming
 * every problem. Reads the job item, the checkpoint list and one descriptor; writes nothing.
 * A request that cannot be chosen (no such savepoint) or a restore under way is not judged
 * here: the restore itself reports it.
 */
export async function checkUpgrade(
  ports: Pick<Ports, 'blobs' | 'manifest'>,
  graph: JobGraph,
  request: RestoreRequest,
  options: { allowNonRestoredState?: boolean } = {},
): Promise<readonly string[]> {
  const job = await ports.manifest.getJob(graph.name);
  if (!job || job.status === 'RESTORING') return [];
  let chosen;
  try {
    chosen = chooseCheckpoint(request, await ports.manifest.listCheckpoints(graph.name), job.lineage);
  } catch (e) {
    if (e instanceof RestoreError) return [];
    throw e;
  }
  if (!chosen) return [];
  const saved = await readStateDescriptor(ports, graph.name, chosen.gen);
  return requireCompatible(checkStateCompatibility(saved, graph, restoreOrigin(chosen), { allowNonRestoredState: options.allowNonRestoredState ?? false }));
}
