/**
 * `tidemark savepoint <job> [--name NAME]` and `tidemark stop <job> [--savepoint NAME]`: ask
 * the running job's coordinator for a savepoint (Flink's `flink savepoint` and `flink stop`)
 * through the job item, then wait until it completes. A stop's savepoint is a
 * stop-with-savepoint: the sources stop at its barrier, the sinks commit it, and the job
 * ends STOPPED.
 *
 * What must hold: the request is one conditional write on a RUNNING job with no other request
 * pending, so two concurrent commands cannot both be accepted, and a refused one changes
 * nothing.
 */
import { CANCEL_ABORT_REASON } from '../lib/core/cancel.js';
import { JobStateError } from '../lib/core/errors.js';
import { CHECKPOINT_HISTORY } from '../lib/core/coordinator.js';
import type { CheckpointRecord, JobRecord } from '../lib/core/manifest.js';
import { blobKeys } from '../lib/core/wire/storage-keys.js';
import { updateJob } from '../lib/runtime/job-records.js';
import { JobNotFoundError } from './ingest-command.js';
import type { OpsOutput } from './ops-commands.js';
import type { Target } from './target.js';

const POLL_MS = 200;
/** How long a command waits for its savepoint before giving up (the job goes on). */
const WAIT_MS = 10 * 60_000;

export interface SavepointResult {
  readonly job: string;
  readonly name: string;
  readonly checkpoint: number;
  readonly location: string;
  readonly status: string;
}

/** A savepoint's default name: `savepoint-<time>` or `stop-<time>`. */
export const savepointName = (stop: boolean, at = new Date()): string => `${stop ? 'stop' : 'savepoint'}-${at.toISOString().replace(/[:.]/g, '-')}`;

/**
 * Asks for the savepoint, then waits for it (and, for a stop, for the job to end): what
 * `tidemark savepoint` and `stop` do, and the web UI's buttons. `requested` is called once the
 * request was accepted, before the wait.
 */
export async function takeSavepoint(target: Target, job: string, name: string, stop: boolean, requested: () => void = () => {}): Promise<SavepointResult> {
  await request(target, job, name, stop);
  requested();
  const record = await completed(target, job, name);
  const status = stop ? await ended(target, job) : 'RUNNING';
  return { job, name, checkpoint: record.id, location: target.locate(job, blobKeys.checkpointPrefix(job as never, record.id)), status };
}

export async function savepointCommand(target: Target, job: string, name: string | undefined, stop: boolean, o: OpsOutput): Promise<void> {
  const result = await takeSavepoint(target, job, name ?? savepointName(stop), stop);
  if (o.json) return o.out(JSON.stringify(result));
  o.out(`savepoint ${result.name} of ${job}: checkpoint ${result.checkpoint}, at ${result.location}`);
  if (stop) o.out(`job ${job} is ${result.status}`);
}

/** One conditional write: refused (nothing changed) unless the job runs and nothing is pending. */
async function request(target: Target, job: string, name: string, stop: boolean): Promise<void> {
  const { manifest } = target.portsFor(job);
  const current = await manifest.getJob(job);
  if (!current) throw new JobNotFoundError(`no job ${job} on ${target.where}`);
  // Every item: retention never deletes a savepoint, so old ones lie beyond the history.
  const clash = (await manifest.listCheckpoints(job)).find((c) => c.savepoint === name);
  if (clash) throw new JobStateError(`job ${job} already has a savepoint named ${name} (checkpoint ${clash.id}): choose another --name`);
  let refusal: string | null = null;
  const refuse = (j: JobRecord): string | null => {
    if (j.status !== 'RUNNING') return `job ${job} is ${j.status}, not RUNNING: a savepoint needs a running job`;
    if (j.savepointRequest) return `job ${job} already has a ${j.savepointRequest.stop ? 'stop' : 'savepoint'} (${j.savepointRequest.name}) requested`;
    if (j.stopping !== null) return `job ${job} is stopping (checkpoint ${j.stopping})`;
    if (j.failover) return `job ${job} is failing over (${j.failover.reason})`;
    return null;
  };
  const written = await updateJob(manifest, job, (j) => {
    refusal = refuse(j);
    return refusal ? null : { ...j, savepointRequest: { name, stop } };
  });
  if (!written) throw new JobStateError(refusal ?? `job ${job} could not be asked for a savepoint`);
}

async function completed(target: Target, job: string, name: string): Promise<CheckpointRecord> {
  const { manifest } = target.portsFor(job);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const record = (await manifest.listCheckpoints(job, { limit: CHECKPOINT_HISTORY })).find((c) => c.savepoint === name);
    if (record?.status === 'COMPLETED') return record;
    if (record?.status === 'ABORTED') throw new JobStateError(`savepoint ${name} of ${job} failed (${record.reason}); ${record.reason === CANCEL_ABORT_REASON ? 'the job was canceled' : 'the job goes on'}`);
    const j = await manifest.getJob(job);
    if (!record && j && j.status !== 'RUNNING') throw new JobStateError(`job ${job} became ${j.status} before savepoint ${name} was taken`);
    if (Date.now() > deadline) throw new JobStateError(`savepoint ${name} of ${job} did not complete within ${WAIT_MS / 60_000} minutes`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** After a stop-with-savepoint: the job ends once its sinks committed it. */
async function ended(target: Target, job: string): Promise<string> {
  const { manifest } = target.portsFor(job);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const j = await manifest.getJob(job);
    if (j && j.status !== 'RUNNING') return j.status;
    if (Date.now() > deadline) throw new JobStateError(`job ${job} did not stop within ${WAIT_MS / 60_000} minutes after its savepoint`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export interface SavepointRow {
  readonly name: string;
  readonly checkpoint: number;
  readonly generation: number;
  readonly status: string;
  readonly stop: boolean;
  readonly triggeredAt: number;
  readonly location: string;
}

/** Every savepoint the job has (retention never deletes one): `tidemark savepoints --json`, `/jobs/:id/savepoints`. */
export async function savepointsReport(target: Target, job: string): Promise<{ job: string; savepoints: SavepointRow[] }> {
  const { manifest } = target.portsFor(job);
  if (!(await manifest.getJob(job))) throw new JobNotFoundError(`no job ${job} on ${target.where}`);
  const savepoints = (await manifest.listCheckpoints(job))
    .filter((c) => c.savepoint !== null)
    .map((c) => ({ name: c.savepoint!, checkpoint: c.id, generation: c.gen, status: c.status, stop: c.stop, triggeredAt: c.triggeredAt, location: target.locate(job, blobKeys.checkpointPrefix(job as never, c.id)) }));
  return { job, savepoints };
}

/** `tidemark savepoints <job>`: every savepoint the job has (retention never deletes one). */
export async function savepointsCommand(target: Target, job: string, o: OpsOutput): Promise<void> {
  const { savepoints } = await savepointsReport(target, job);
  if (o.json) return o.out(JSON.stringify({ job, savepoints }));
  if (savepoints.length === 0) o.out(`job ${job} has no savepoints`);
  for (const s of savepoints) o.out(`${s.name}  checkpoint ${s.checkpoint}  generation ${s.generation}  ${s.status}${s.stop ? '  (stop)' : ''}  ${s.location}`);
}

/**
 * `tidemark dispose <job> <savepoint>`: deletes a savepoint (Flink's `flink savepoint -d`).
 * Refused while it is in use: the base of a generation that has no checkpoint of its own,
 * what a restore in progress reads, or the stop being taken. The manifest item goes first,
 * so nothing can restore from a half-deleted savepoint; its snapshot objects follow.
 */
export async function disposeCommand(target: Target, job: string, name: string, o: OpsOutput): Promise<void> {
  const { manifest, blobs } = target.portsFor(job);
  const current = await manifest.getJob(job);
  if (!current) throw new JobNotFoundError(`no job ${job} on ${target.where}`);
  const all = await manifest.listCheckpoints(job);
  const sp = all.find((c) => c.savepoint === name);
  if (!sp) throw new JobStateError(`job ${job} has no savepoint named ${name} (see tidemark savepoints)`);
  const use = savepointInUse(current, all, sp);
  if (use) throw new JobStateError(`savepoint ${name} of ${job} is in use (${use}): it cannot be disposed now`);
  await manifest.deleteCheckpoint(job, sp.id);
  const prefix = blobKeys.checkpointPrefix(job as never, sp.id);
  const keys = await blobs.list(prefix);
  if (keys.length > 0) await blobs.delete(keys);
  if (o.json) return o.out(JSON.stringify({ job, disposed: name, checkpoint: sp.id, objects: keys.length }));
  o.out(`disposed savepoint ${name} of ${job} (checkpoint ${sp.id}, ${keys.length} objects)`);
}

/** Why a savepoint cannot be disposed now, or null. */
export function savepointInUse(job: JobRecord, all: readonly CheckpointRecord[], sp: CheckpointRecord): string | null {
  const { gen, base } = job.lineage;
  if (base === sp.id && !all.some((c) => c.gen === gen && c.status === 'COMPLETED')) return `generation ${gen} was restored from it and has no checkpoint of its own yet`;
  const restore = job.restore;
  if (restore && ((restore.from?.kind === 'checkpoint' && restore.from.checkpoint === sp.id) || (restore.request.kind === 'savepoint' && restore.request.name === sp.savepoint))) {
    return `the restore to generation ${restore.gen} reads it`;
  }
  if (job.stopping === sp.id || sp.status === 'PENDING') return 'it is still being taken';
  return null;
}
