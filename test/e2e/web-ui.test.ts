/// <reference lib="dom" />
/**
 * The web UI as a user runs it: `tidemark dev <job> --ui` on its own emulator, the page in
 * headless Chromium (Debian's package, driven by playwright-core), the REST API with curl-like
 * requests. In order, on one running job:
 *
 * 1. the page draws the job graph, shows completed checkpoints appearing while it is open (no
 *    reload), takes a savepoint with its button after the confirmation, and lists it; the page
 *    opened without the token only looks. Screenshots go to test-artifacts/web-ui/.
 * 2. the REST API's contract: Flink's paths and fields, the same figures as the CLI prints,
 *    Flink's error shape with the right statuses, and no change without the token;
 * 3. a savepoint, a cancel and a restore through the API, each what the CLI command does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckpointDetail, CheckpointStatistics } from '../../lib/core/checkpoint-stats.js';
import { chromiumPath } from '../support/chromium.js';
import { PROJECT_ROOT, TIDEMARK_BIN, tidemarkCli, until, userEnv } from '../support/cli.js';

const JOB = join(PROJECT_ROOT, 'test', 'e2e', 'fixtures', 'web-ui-job.ts');
const NAME = 'web-ui-watched';
const SHOTS = join(PROJECT_ROOT, 'test-artifacts', 'web-ui');
const env = userEnv();
const cwd = mkdtempSync(join(tmpdir(), 'tidemark-ui-'));

let dev: ChildProcess | undefined;
let devErr = '';
let browser: Browser | undefined;
let base = '';
let token = '';

interface Answer {
  readonly status: number;
  readonly body: any;
}

async function call(method: string, path: string, options: { token?: string; body?: unknown; raw?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const res = await fetch(`${base}${path.slice(1)}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: res.status, body: await res.json() };
}

const get = async (path: string) => {
  const a = await call('GET', path);
  expect(a.status, JSON.stringify(a.body)).toBe(200);
  return a.body;
};

const tidemark = (args: string[]) => tidemarkCli(args, { cwd, env, timeoutMs: 60_000 });

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const executablePath = chromiumPath();
  dev = spawn(process.execPath, [TIDEMARK_BIN, 'dev', JOB, '--ui', '--ui-port', '0'], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  dev.stderr!.on('data', (d) => (devErr += d));
  await until('the UI is up', async () => /tidemark ui: .* at (http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]+)/.test(devErr), 120_000);
  const [, url, t] = /tidemark ui: .* at (http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]+)/.exec(devErr)!;
  base = url!;
  token = t!;
  browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  dev?.kill('SIGKILL');
  rmSync(cwd, { recursive: true, force: true });
});

const completedIds = (page: Page) => page.$$eval('[data-testid=checkpoint-row][data-status=COMPLETED] td:first-child', (tds) => tds.map((td) => Number(td.textContent)));

describe('tidemark dev --ui in a browser', () => {
  it('draws the graph, shows checkpoints completing live, and takes a savepoint with its button', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}?token=${token}`);
    // The token is taken out of the address bar, as Jupyter does.
    expect(page.url()).toBe(base);

    // The graph: one box per stage, the keyed edge between them.
    await page.waitForSelector('[data-testid=graph] g.node[data-stage=counts]', { timeout: 60_000 });
    expect(await page.$$eval('[data-testid=graph] g.node', (ns) => ns.map((n) => n.getAttribute('data-stage')))).toEqual(['lines', 'counts']);
    expect(await page.textContent('[data-testid=graph] g.edge text')).toBe('HASH');
    // Watermarks per subtask arrive with the first completed checkpoint.
    await page.waitForFunction(() => /0: 2026-/.test(document.querySelector('#vertices tr[data-vertex=counts]')?.textContent ?? ''), null, { timeout: 60_000 });
    await page.screenshot({ path: join(SHOTS, '1-overview.png'), fullPage: true });

    // Checkpoints complete while the page is open: two more appear without a reload.
    await page.click('#tabs button[data-tab=checkpoints]');
    await page.waitForSelector('[data-testid=checkpoint-row]', { timeout: 60_000 });
    const first = Math.max(0, ...(await completedIds(page)));
    await page.waitForFunction((seen) => Array.from(document.querySelectorAll('[data-testid=checkpoint-row][data-status=COMPLETED] td:first-child')).filter((td) => Number(td.textContent) > seen).length >= 2, first, { timeout: 90_000 });
    expect((await completedIds(page)).filter((id) => id > first).length).toBeGreaterThanOrEqual(2);
    await page.click('[data-testid=checkpoint-row][data-status=COMPLETED]');
    await page.waitForSelector('[data-testid=checkpoint-detail] tbody tr');
    expect(await page.$$eval('[data-testid=checkpoint-detail] tbody tr td:first-child', (tds) => tds.map((td) => td.textContent))).toEqual(['lines/0', 'lines/1', 'counts/0', 'counts/1']);
    await page.screenshot({ path: join(SHOTS, '2-checkpoints.png'), fullPage: true });

    // The savepoint button asks first; a No changes nothing.
    await page.click('button[data-action=savepoint]');
    await page.click('#confirm-no');
    // Yes, with a name: the savepoint is taken and listed.
    await page.click('button[data-action=savepoint]');
    await page.fill('#confirm-name', 'from-the-button');
    await page.screenshot({ path: join(SHOTS, '3-confirm-savepoint.png') });
    await page.click('#confirm-ok');
    await page.waitForFunction(() => /savepoint from-the-button: checkpoint \d+/.test(document.querySelector('#message')?.textContent ?? ''), null, { timeout: 90_000 });
    await page.click('#tabs button[data-tab=savepoints]');
    await page.waitForSelector('[data-testid=savepoint-row][data-name=from-the-button][data-status=COMPLETED]', { timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, '4-savepoints.png'), fullPage: true });
    const listed = JSON.parse((await tidemark(['savepoints', '--job', NAME, '--json'])).stdout) as { savepoints: { name: string; status: string }[] };
    expect(listed.savepoints.map((s) => s.name)).toEqual(['from-the-button']);
    // Back on the graph, with rates between the latest two checkpoints.
    await page.click('#tabs button[data-tab=overview]');
    await page.waitForFunction(() => /in [\d,.]+\/s/.test(document.querySelector('[data-testid=graph] g.node[data-stage=counts]')?.textContent ?? ''), null, { timeout: 30_000 });
    await page.screenshot({ path: join(SHOTS, '5-overview-rates.png'), fullPage: true });
    expect(errors).toEqual([]);

    // Without the token the page only looks.
    const reader = await (await browser!.newContext()).newPage();
    await reader.goto(base);
    await reader.waitForFunction(() => document.querySelector('#job-state')?.textContent === 'RUNNING');
    expect(await reader.textContent('#access')).toMatch(/read-only/);
    expect(await reader.$$eval('[data-action]', (bs) => bs.map((b) => (b as HTMLButtonElement).disabled))).toEqual([true, true, true, true]);
    await reader.close();
  }, 300_000);
});

describe('the REST API', () => {
  it('answers on Flink\'s paths with the figures the CLI prints', async () => {
    expect(await get('/jobs')).toEqual({ jobs: [{ id: NAME, status: 'RUNNING' }] });
    expect((await get('/api/jobs')).jobs).toEqual([{ id: NAME, status: 'RUNNING' }]);
    const [overview] = (await get('/jobs/overview')).jobs;
    expect(overview).toMatchObject({ jid: NAME, name: NAME, state: 'RUNNING', generation: 1, restarts: 0 });
    expect(overview['last-checkpoint']).toBeGreaterThan(0);

    const job = await get(`/jobs/${NAME}`);
    expect(job).toMatchObject({ jid: NAME, state: 'RUNNING', generation: 1, origin: 'submitted' });
    expect(job.plan.nodes).toEqual([
      { id: 'lines', description: 'source lines → flatMap words', parallelism: 2, inputs: [] },
      { id: 'counts', description: 'aggregate counts → sink out', parallelism: 2, inputs: [{ id: 'lines', ship_strategy: 'HASH', port: 'main' }] },
    ]);
    const counts = job.vertices.find((v: { id: string }) => v.id === 'counts');
    expect(counts).toMatchObject({ parallelism: 2, operators: ['counts', 'out'], queue: { name: `${NAME}-counts.fifo` } });
    expect(counts.metrics['read-records']).toBeGreaterThan(0);
    expect(counts.metrics['read-records-per-second']).toBeGreaterThan(0);
    expect(counts.subtasks.map((s: { watermark: number }) => s.watermark)).toEqual([expect.any(Number), expect.any(Number)]);
    expect(['ok', 'low', 'high']).toContain(counts.backpressure);

    // The checkpoints tab's statistics are `tidemark checkpoints --json`'s.
    const stats = (await get(`/jobs/${NAME}/checkpoints`)) as CheckpointStatistics;
    const cli = JSON.parse((await tidemark(['checkpoints', JOB, '--json'])).stdout) as CheckpointStatistics;
    expect(stats.config).toEqual(cli.config);
    expect(stats.counts.completed).toBeGreaterThanOrEqual(2);
    const done = stats.history.find((c) => c.status === 'COMPLETED' && !c.isSavepoint)!;
    expect(cli.history.find((c) => c.id === done.id)).toMatchObject({ status: 'COMPLETED', checkpointedSize: done.checkpointedSize, numSubtasks: done.numSubtasks });
    expect(await get(`/jobs/${NAME}/checkpoints/config`)).toEqual(cli.config);
    const detail = (await get(`/jobs/${NAME}/checkpoints/details/${done.id}`)) as CheckpointDetail;
    const cliDetail = JSON.parse((await tidemark(['checkpoints', '--job', NAME, '--id', String(done.id), '--json'])).stdout) as CheckpointDetail;
    expect(detail.subtasks).toEqual(cliDetail.subtasks);
    expect(await get(`/jobs/${NAME}/exceptions`)).toMatchObject({ 'root-exception': null, exceptionHistory: { entries: [] }, restarts: 0, failureTimes: [], origin: 'submitted' });
    expect((await get('/config'))['refresh-interval']).toBe(1000);
  }, 120_000);

  it('says what is wrong in Flink\'s error shape', async () => {
    const missing = await call('GET', '/jobs/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0]).toMatch(/^no job nope on /);
    expect((await call('GET', '/nowhere')).status).toBe(404);
    expect(await call('GET', `/jobs/${NAME}/checkpoints/details/abc`)).toEqual({ status: 400, body: { errors: ['checkpoint id must be a number, not "abc"'] } });
    expect((await call('GET', `/jobs/${NAME}/checkpoints/details/99999`)).status).toBe(404);
    expect((await call('DELETE', `/jobs/${NAME}`)).status).toBe(405);
    expect((await call('POST', `/jobs/${NAME}/savepoints`, { token, raw: '{not json' })).status).toBe(400);
    expect((await call('POST', `/jobs/${NAME}/savepoints`, { token, body: { name: 7 } })).body).toEqual({ errors: ['field name must be a string, not 7'] });
    const clash = await call('POST', `/jobs/${NAME}/savepoints`, { token, body: { name: 'from-the-button' } });
    expect(clash.status).toBe(409);
    expect(clash.body.errors[0]).toMatch(/already has a savepoint named from-the-button/);
    expect((await call('POST', `/jobs/${NAME}/restore`, { token, body: {} })).status).toBe(400);
    // A page on another name that resolves here (DNS rebinding) reads nothing.
    const rebound = await new Promise<number>((resolve, reject) => {
      const { port } = new URL(base);
      request({ host: '127.0.0.1', port, path: '/jobs', headers: { host: `rebind.example:${port}` } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect(rebound).toBe(403);
  }, 60_000);

  it('changes nothing without the token', async () => {
    const before = (await get(`/jobs/${NAME}/savepoints`)).savepoints;
    const refused = [
      await call('POST', `/jobs/${NAME}/savepoints`, { body: { name: 'no-token' } }),
      await call('POST', `/jobs/${NAME}/savepoints`, { token: 'f'.repeat(token.length), body: { name: 'wrong-token' } }),
      await call('POST', `/jobs/${NAME}/stop`),
      await call('PATCH', `/jobs/${NAME}?mode=cancel`),
      await call('POST', `/jobs/${NAME}/cancel`),
      await call('POST', `/jobs/${NAME}/restore`, { body: { from: 'latest' } }),
    ];
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 401]);
    expect(refused[0]!.body.errors[0]).toMatch(/needs the token/);
    const job = await get(`/jobs/${NAME}`);
    expect(job).toMatchObject({ state: 'RUNNING', generation: 1 });
    expect((await get(`/jobs/${NAME}/savepoints`)).savepoints).toEqual(before);
    // Nor was a savepoint asked for behind the scenes: the next checkpoints are plain ones.
    const newest = async () => Math.max(...((await get(`/jobs/${NAME}/checkpoints`)) as CheckpointStatistics).history.filter((c) => c.status === 'COMPLETED').map((c) => c.id));
    const after = await newest();
    await until('another checkpoint completed', async () => (await newest()) > after);
    expect(((await get(`/jobs/${NAME}/checkpoints`)) as CheckpointStatistics).history.filter((c) => c.isSavepoint).map((c) => c.savepoint)).toEqual(['from-the-button']);
  }, 120_000);

  it('takes a savepoint, cancels and restores with the token, as the CLI commands do', async () => {
    const triggered = await call('POST', `/jobs/${NAME}/savepoints`, { token, body: { name: 'from-the-api' } });
    expect(triggered.status).toBe(202);
    const rid = triggered.body['request-id'] as string;
    let op: any;
    await until('the savepoint completed', async () => {
      op = (await call('GET', `/jobs/${NAME}/savepoints/${rid}`)).body;
      return op.status.id === 'COMPLETED';
    }, 90_000);
    expect(op.operation).toMatchObject({ job: NAME, name: 'from-the-api', status: 'RUNNING', location: expect.stringMatching(/^s3:\/\//) });
    expect((await call('GET', `/jobs/${NAME}/savepoints/not-a-request`)).status).toBe(404);

    const canceled = await call('PATCH', `/jobs/${NAME}?mode=cancel`, { token });
    expect(canceled.status).toBe(202);
    expect(canceled.body).toMatchObject({ job: NAME, status: 'CANCELED', generation: 1 });
    expect((await get(`/jobs/${NAME}`)).detail).toBe('canceled by the web UI');
    expect((await call('PATCH', `/jobs/${NAME}?mode=cancel`, { token })).status).toBe(409);

    const restored = await call('POST', `/jobs/${NAME}/restore`, { token, body: { from: 'from-the-api' } });
    expect(restored.status, JSON.stringify(restored.body)).toBe(200);
    expect(restored.body).toMatchObject({ job: NAME, generation: 2, status: 'RUNNING', from: `checkpoint ${op.operation.checkpoint}` });
    const status = JSON.parse((await tidemark(['status', '--job', NAME, '--json'])).stdout) as { status: string; generation: number; origin: string };
    expect(status).toMatchObject({ status: 'RUNNING', generation: 2, origin: `savepoint from-the-api (checkpoint ${op.operation.checkpoint})` });

    // Ctrl-C ends the dev, and its UI with it (while a job runs, the signal ends the process).
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => dev!.once('exit', (code, signal) => resolve({ code, signal })));
    dev!.kill('SIGINT');
    const ended = await exit;
    expect(ended.code === 0 || ended.signal === 'SIGINT', JSON.stringify(ended)).toBe(true);
    await expect(fetch(base)).rejects.toThrow();
  }, 180_000);
});
