/**
 * How `tidemark restore` with another job file (an upgrade) reaches a running `tidemark dev`
 * or `tidemark deploy --local --stay`: the dev's local host runs the code it loaded, and the
 * deployed stack the code it was deployed with, so a new generation restored with new code
 * needs that code running first (for a deploy: `cdk deploy` of the new version, a stack update). The two processes meet in the dev registry
 * (local/dev-registry.ts): the restore writes `codeRequest` (the file) and waits; the dev
 * stops its host, creates what the new version needs (new stages' queues), starts a host on
 * the new code, and answers by making the file its `jobFile` (or says why not in `codeError`).
 *
 * What must hold: the old host is stopped before the restore writes anything, so no message of
 * the new generation is ever handled by the old code; and the restore only asks a dev whose job
 * has ended (the caller checks), so no message of a running generation meets the new code.
 */
import { resolve } from 'node:path';
import { JobStateError } from '../lib/core/errors.js';
import { readRegistry, writeRegistry, type DevJob, type DevRegistry } from './dev-registry.js';

const POLL_MS = 200;
/** A dev loads a job module and creates queues in seconds; a `deploy --local` redeploys its stack, in a minute or two. */
const ANSWER_TIMEOUT_MS = 300_000;

/** How the registry's owner is named in messages. */
export const hostName = (registry: DevRegistry) => (registry.kind === 'deploy' ? 'tidemark deploy --local' : 'tidemark dev');

/** The restore's side: asks the dev to run `jobFile` for `job`; resolves once it does. */
export async function handCodeToDev(job: string, jobFile: string, dir = process.cwd()): Promise<void> {
  const file = resolve(dir, jobFile);
  const asked = updateJob(readRegistry(dir), job, (j) => ({ ...j, codeRequest: file, codeError: undefined }));
  writeRegistry(asked, dir);
  const deadline = Date.now() + ANSWER_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const registry = readRegistry(dir);
    if (!registry || registry.pid !== asked.pid) throw new JobStateError(`${hostName(asked)} (pid ${asked.pid}) stopped before it took ${jobFile}`);
    const entry = registry.jobs.find((j) => j.name === job);
    if (entry?.codeError) throw new JobStateError(`${hostName(asked)} could not run ${jobFile}: ${entry.codeError}`);
    if (entry && entry.codeRequest === undefined && resolve(dir, entry.jobFile) === file) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new JobStateError(`${hostName(asked)} (pid ${asked.pid}) did not take ${jobFile} within ${ANSWER_TIMEOUT_MS / 1000} s; nothing was restored`);
}

/** The job file the dev runs for `job` now, or null when the dev does not host it. */
export function devJobFile(registry: DevRegistry, job: string, dir = process.cwd()): string | null {
  const entry = registry.jobs.find((j) => j.name === job);
  return entry ? resolve(dir, entry.jobFile) : null;
}

/**
 * The dev's side: until `stop`, answers every code request for its job with `reload` (which
 * swaps the host onto the file's code). One request at a time; a failed load is reported to
 * the requester and the old code keeps running.
 */
export function followCodeRequests(job: string, reload: (jobFile: string) => Promise<void>, log: (line: string) => void, dir = process.cwd()): { stop(): Promise<void> } {
  const answer = async (registry: DevRegistry, entry: DevJob, file: string) => {
    try {
      await reload(file);
      writeRegistry(updateJob(registry, job, (j) => ({ ...j, jobFile: file, codeRequest: undefined })), dir);
      log(`${hostName(registry)}: job ${entry.name} now runs the code of ${file}`);
    } catch (e) {
      writeRegistry(updateJob(registry, job, (j) => ({ ...j, codeError: (e as Error).message })), dir);
      log(`${hostName(registry)}: could not run ${file}: ${(e as Error).message}`);
    }
  };
  let running = true;
  const loop = (async () => {
    while (running) {
      const registry = readRegistry(dir);
      const entry = registry?.pid === process.pid ? registry.jobs.find((j) => j.name === job) : undefined;
      if (registry && entry?.codeRequest && !entry.codeError) await answer(registry, entry, entry.codeRequest);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

function updateJob(registry: DevRegistry | null, job: string, change: (j: DevJob) => DevJob): DevRegistry {
  if (!registry) throw new JobStateError('tidemark dev (or deploy --local) is no longer running here');
  if (!registry.jobs.some((j) => j.name === job)) throw new JobStateError(`${hostName(registry)} (pid ${registry.pid}) does not run job ${job}`);
  return { ...registry, jobs: registry.jobs.map((j) => (j.name === job ? change(j) : j)) };
}
