/**
 * `tidemark ui [<job-file> ...] [--port N]` and `tidemark dev --ui`: the web UI for the jobs on
 * a target. It prints its address with a token, as Jupyter does: the page opened with the
 * token can take savepoints, stop, cancel and restore; without it, it only looks.
 *
 * A job's graph (and a restore) needs its code: the one a `tidemark dev` runs (read from its
 * registry at each request, since a restore with another file hands that file to the dev),
 * else the job file named on the command line.
 */
import { resolve } from 'node:path';
import type { JobGraph } from '../../lib/core/graph.js';
import { UsageError } from '../cli-errors.js';
import { readRegistry } from '../dev-registry.js';
import { loadJob } from '../job-file.js';
import type { Target } from '../target.js';
import type { ApiContext } from './rest-api.js';
import { SavepointOperations } from './savepoint-operations.js';
import { startUiServer, type UiServer } from './ui-server.js';

/** How often the page polls the API. */
const REFRESH_MS = 1000;

/** The API's view of the target, with the graphs of the job files it knows (each loaded once). */
export async function uiContext(target: Target, jobFiles: readonly string[], interval?: number): Promise<ApiContext> {
  const named = new Map<string, string>();
  const graphs = new Map<string, JobGraph>();
  for (const file of jobFiles) {
    const { graph } = await loadJob(file, interval);
    if (named.has(graph.name)) throw new UsageError(`two job files name job ${graph.name}: ${named.get(graph.name)} and ${file}`);
    named.set(graph.name, resolve(file));
    graphs.set(resolve(file), graph);
  }
  const jobFile = (job: string): string | null => {
    const dev = target.dev ? readRegistry()?.jobs.find((j) => j.name === job)?.jobFile : undefined;
    return dev ? resolve(dev) : (named.get(job) ?? null);
  };
  return {
    target,
    jobFile,
    graph: async (job) => {
      const file = jobFile(job);
      if (!file) return null;
      if (!graphs.has(file)) graphs.set(file, (await loadJob(file, interval)).graph);
      return graphs.get(file)!;
    },
    operations: new SavepointOperations(),
    refreshMs: REFRESH_MS,
  };
}

/** Starts the UI and says where it is; `log` gets the lines to print. `interval`: the run's override of the jobs' checkpoint interval. */
export async function startUi(target: Target, jobFiles: readonly string[], port: number, log: (line: string) => void, interval?: number): Promise<UiServer> {
  const server = await startUiServer(await uiContext(target, jobFiles, interval), { port });
  log(`tidemark ui: the jobs on ${target.where}, at ${server.urlWithToken}`);
  log(`tidemark ui: read-only without the token: ${server.url} (the REST API too: ${server.url}jobs)`);
  return server;
}

/** `tidemark ui`: serves until Ctrl-C (or SIGTERM). */
export async function uiCommand(target: Target, jobFiles: readonly string[], port: number, log: (line: string) => void): Promise<number> {
  const server = await startUi(target, jobFiles, port, log);
  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  await server.close();
  return 0;
}
