/**
 * The web UI's JSON REST API, with Flink's paths where they apply, so scripts written against
 * Flink's carry over (docs/web-ui.md lists every route and field):
 *
 *   GET   /config                                  the UI's own settings
 *   GET   /jobs                                    { jobs: [{ id, status }] }
 *   GET   /jobs/overview                           { jobs: [JobOverview] }
 *   GET   /jobs/:id                                the job, its vertices and plan
 *   GET   /jobs/:id/exceptions                     root exception and history
 *   GET   /jobs/:id/checkpoints                    counts, history, summary, latest restore
 *   GET   /jobs/:id/checkpoints/config             the checkpoint settings
 *   GET   /jobs/:id/checkpoints/details/:cid       one checkpoint, per subtask
 *   GET   /jobs/:id/savepoints                     every savepoint (ours: Flink has no list)
 *   GET   /jobs/:id/savepoints/:request-id         a triggered savepoint's progress
 *   POST  /jobs/:id/savepoints   { name? }         trigger a savepoint      (token)
 *   POST  /jobs/:id/stop         { name? }         stop with a savepoint    (token)
 *   PATCH /jobs/:id?mode=cancel                    cancel                   (token)
 *   POST  /jobs/:id/restore      { from, parallelism?, allowNonRestoredState? }   (token)
 *
 * Every change runs what the CLI command of the same name runs. A request that would change
 * anything needs the token the UI printed at start; without it the answer is 401 and nothing
 * is read or written. Errors are Flink's `{ errors: [message] }`.
 */
import { JobStateError, TidemarkError } from '../../lib/core/errors.js';
import type { JobGraph } from '../../lib/core/graph.js';
import { cancelRunningJob } from '../cancel-command.js';
import { UsageError } from '../cli-errors.js';
import { JobNotFoundError } from '../ingest-command.js';
import { checkpointDetailReport, checkpointsReport } from '../ops-commands.js';
import { restoreCommand } from '../restore-command.js';
import { savepointName, savepointsReport } from '../savepoint-commands.js';
import type { Target } from '../target.js';
import { jobDetail, jobExceptions, jobsOverview } from './job-views.js';
import type { SavepointOperations } from './savepoint-operations.js';

export interface ApiRequest {
  readonly method: string;
  /** The path below `/api` (or the root), e.g. `/jobs/wordcount/checkpoints`. */
  readonly path: string;
  readonly query: URLSearchParams;
  /** The parsed JSON body; undefined when there was none. */
  readonly body: unknown;
  /** Whether the request carried the UI's token. */
  readonly authorized: boolean;
}

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
}

export interface ApiContext {
  readonly target: Target;
  /** The job file of a job, when the UI knows it (a dev's, or one named on the command line). */
  jobFile(job: string): string | null;
  /** The job's graph, from its job file; null when no file is known. */
  graph(job: string): Promise<JobGraph | null>;
  readonly operations: SavepointOperations;
  /** How often the page refreshes, ms. */
  readonly refreshMs: number;
}

type Handler = (ctx: ApiContext, params: Record<string, string>, req: ApiRequest) => Promise<ApiResponse>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly names: readonly string[];
  readonly changes: boolean;
  readonly handler: Handler;
}

const ok = (body: unknown, status = 200): ApiResponse => ({ status, body });

function route(method: string, path: string, handler: Handler, changes = false): Route {
  const names: string[] = [];
  const pattern = new RegExp(`^${path.replace(/:([a-z-]+)/g, (_, n: string) => (names.push(n), '([^/]+)'))}/?$`);
  return { method, pattern, names, changes, handler };
}

const ROUTES: readonly Route[] = [
  route('GET', '/config', async (ctx) => ok({ 'refresh-interval': ctx.refreshMs, target: ctx.target.where, 'flink-compatible-paths': true })),
  route('GET', '/jobs', async (ctx) => ok({ jobs: (await jobsOverview(ctx.target)).map((j) => ({ id: j.jid, status: j.state })) })),
  route('GET', '/jobs/overview', async (ctx) => ok({ jobs: await jobsOverview(ctx.target) })),
  route('GET', '/jobs/:id', async (ctx, p) => ok(await jobDetail(ctx.target, p.id!, await ctx.graph(p.id!), ctx.jobFile(p.id!)))),
  route('GET', '/jobs/:id/exceptions', async (ctx, p) => ok(await jobExceptions(ctx.target, p.id!))),
  route('GET', '/jobs/:id/checkpoints', async (ctx, p) => ok((await checkpointsReport(ctx.target, p.id!, (await ctx.graph(p.id!))?.checkpoints ?? null)).stats)),
  route('GET', '/jobs/:id/checkpoints/config', async (ctx, p) => ok((await ctx.graph(p.id!))?.checkpoints ?? null)),
  route('GET', '/jobs/:id/checkpoints/details/:cid', async (ctx, p) => ok(await checkpointDetailReport(ctx.target, p.id!, checkpointNumber(p.cid!)))),
  route('GET', '/jobs/:id/savepoints', async (ctx, p) => ok(await savepointsReport(ctx.target, p.id!))),
  route('GET', '/jobs/:id/savepoints/:rid', async (ctx, p) => {
    const op = ctx.operations.get(p.id!, p.rid!);
    if (!op) throw new JobNotFoundError(`no savepoint request ${p.rid} for job ${p.id}`);
    return ok(op);
  }),
  route('POST', '/jobs/:id/savepoints', async (ctx, p, req) => triggerSavepoint(ctx, p.id!, req.body, false), true),
  route('POST', '/jobs/:id/stop', async (ctx, p, req) => triggerSavepoint(ctx, p.id!, req.body, true), true),
  route('PATCH', '/jobs/:id', async (ctx, p, req) => cancel(ctx, p.id!, req.query), true),
  route('POST', '/jobs/:id/cancel', async (ctx, p) => ok(await cancelRunningJob(ctx.target, p.id!, 'the web UI'), 202), true),
  route('POST', '/jobs/:id/restore', async (ctx, p, req) => restore(ctx, p.id!, req.body), true),
];

export async function handleApiRequest(ctx: ApiContext, req: ApiRequest): Promise<ApiResponse> {
  const matching = ROUTES.filter((r) => r.pattern.test(req.path));
  const found = matching.find((r) => r.method === req.method);
  if (!found) return matching.length > 0 ? error(405, `${req.method} is not allowed on ${req.path} (allowed: ${matching.map((r) => r.method).join(', ')})`) : error(404, `no such path: ${req.path}`);
  if (found.changes && !req.authorized) return error(401, 'this request changes the job: it needs the token tidemark ui printed at start (header Authorization: Bearer <token>)');
  const values = found.pattern.exec(req.path)!.slice(1).map(decodeURIComponent);
  const params = Object.fromEntries(found.names.map((n, i) => [n, values[i]!]));
  try {
    if (params.id !== undefined) await ctx.target.prepare(params.id);
    return await found.handler(ctx, params, req);
  } catch (e) {
    return classify(e);
  }
}

/** The one place errors become statuses: ours by kind, anything else a 500 with its message. */
function classify(e: unknown): ApiResponse {
  if (e instanceof JobNotFoundError) return error(404, e.message);
  if (e instanceof UsageError) return error(400, e.message);
  if (e instanceof JobStateError) return error(409, e.message);
  if (e instanceof TidemarkError) return error(500, e.message);
  return error(500, e instanceof Error ? e.message : String(e));
}

const error = (status: number, message: string): ApiResponse => ({ status, body: { errors: [message] } });

function checkpointNumber(raw: string): number {
  if (!/^\d+$/.test(raw)) throw new UsageError(`checkpoint id must be a number, not ${JSON.stringify(raw)}`);
  return Number(raw);
}

function field<T>(body: unknown, name: string, type: 'string' | 'number' | 'boolean'): T | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object') throw new UsageError('the request body must be a JSON object');
  const value = (body as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  if (typeof value !== type) throw new UsageError(`field ${name} must be a ${type}, not ${JSON.stringify(value)}`);
  return value as T;
}

async function triggerSavepoint(ctx: ApiContext, job: string, body: unknown, stop: boolean): Promise<ApiResponse> {
  const name = field<string>(body, 'name', 'string') ?? savepointName(stop);
  if (!(await ctx.target.jobs()).includes(job)) throw new JobNotFoundError(`no job ${job} on ${ctx.target.where}`);
  const id = await ctx.operations.start(ctx.target, job, name, stop);
  return ok({ 'request-id': id, name }, 202);
}

async function cancel(ctx: ApiContext, job: string, query: URLSearchParams): Promise<ApiResponse> {
  const mode = query.get('mode') ?? 'cancel';
  if (mode !== 'cancel') throw new UsageError(`mode must be cancel, not ${JSON.stringify(mode)} (stop takes a savepoint: POST /jobs/${job}/stop)`);
  return ok(await cancelRunningJob(ctx.target, job, 'the web UI'), 202);
}

/** What `tidemark restore <job file> --from …` does, with the job file the UI knows. */
async function restore(ctx: ApiContext, job: string, body: unknown): Promise<ApiResponse> {
  const from = field<string>(body, 'from', 'string');
  if (!from) throw new UsageError('field from is required: latest, a checkpoint id or a savepoint name');
  const parallelism = field<number>(body, 'parallelism', 'number');
  if (parallelism !== undefined && (!Number.isInteger(parallelism) || parallelism < 1)) throw new UsageError(`parallelism must be a positive integer, not ${parallelism}`);
  const jobFile = ctx.jobFile(job);
  if (!jobFile) throw new UsageError(`the UI does not know job ${job}'s file: start it as tidemark ui <job.ts> to restore from it`);
  const lines: string[] = [];
  const allowNonRestoredState = field<boolean>(body, 'allowNonRestoredState', 'boolean') ?? false;
  await restoreCommand(ctx.target, { jobFile, from, ...(parallelism ? { parallelism } : {}), allowNonRestoredState, wait: false }, { json: true, out: (l) => lines.push(l) });
  return ok(JSON.parse(lines.at(-1)!));
}
