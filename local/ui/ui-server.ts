/**
 * The web UI's HTTP server: the page and its scripts (the project's own, and the charting and
 * graph-layout libraries it ships as dependencies, served from node_modules: the page needs no
 * network), and the REST API under `/api` (also at Flink's root paths: `/jobs`, `/config`).
 *
 * What must hold: it listens on the loopback address only and answers only requests addressed
 * to a loopback name (no DNS rebinding); a request that would change a job
 * carries the token (header `Authorization: Bearer <token>`), compared in constant time; a
 * body over 64 KiB or that is not JSON is refused before anything runs.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../cli-errors.js';
import { handleApiRequest, type ApiContext } from './rest-api.js';

const STATIC = join(dirname(fileURLToPath(import.meta.url)), 'static');
const require = createRequire(import.meta.url);
const MAX_BODY = 64 * 1024;

/** What the page loads, by path: the project's files and the libraries it draws with. */
const ASSETS: Readonly<Record<string, () => string>> = {
  '/': () => join(STATIC, 'index.html'),
  '/ui-kit.js': () => join(STATIC, 'ui-kit.js'),
  '/graph.js': () => join(STATIC, 'graph.js'),
  '/checkpoints.js': () => join(STATIC, 'checkpoints.js'),
  '/app.js': () => join(STATIC, 'app.js'),
  '/app.css': () => join(STATIC, 'app.css'),
  '/vendor/uPlot.iife.min.js': () => join(packageDir('uplot'), 'dist', 'uPlot.iife.min.js'),
  '/vendor/uPlot.min.css': () => join(packageDir('uplot'), 'dist', 'uPlot.min.css'),
  '/vendor/dagre.min.js': () => join(packageDir('@dagrejs/dagre'), 'dist', 'dagre.min.js'),
};

const TYPES: Readonly<Record<string, string>> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

function packageDir(name: string): string {
  return dirname(require.resolve(`${name}/package.json`));
}

export interface UiServer {
  /** `http://127.0.0.1:PORT/` */
  readonly url: string;
  /** The URL with the token: what to open to be able to take savepoints, stop, cancel and restore. */
  readonly urlWithToken: string;
  readonly token: string;
  close(): Promise<void>;
}

export interface UiServerOptions {
  /** 0 picks a free port. @default 8081 (Flink's) */
  readonly port?: number;
  /** @default a random 24-byte token */
  readonly token?: string;
}

export async function startUiServer(ctx: ApiContext, options: UiServerOptions = {}): Promise<UiServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  const server = createServer((req, res) => {
    serve(ctx, token, req, res).catch((e: unknown) => send(res, 500, { errors: [e instanceof Error ? e.message : String(e)] }));
  });
  await listen(server, options.port ?? 8081);
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    urlWithToken: `${url}?token=${token}`,
    token,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new UsageError(`port ${port} is in use: choose another with --port N (0 picks a free one)`, false, { cause: e }) : e),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

/** Names this server answers to: a page on another name that resolves here (DNS rebinding) reads nothing. */
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

async function serve(ctx: ApiContext, token: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const host = (req.headers.host ?? '').replace(/:\d+$/, '');
  if (!LOOPBACK_NAMES.has(host)) return send(res, 403, { errors: [`this UI answers on 127.0.0.1 and localhost only, not ${JSON.stringify(host)}`] });
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const asset = ASSETS[url.pathname];
  if (asset && req.method === 'GET') return sendFile(res, asset());
  const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
  let body: unknown;
  try {
    body = await readBody(req);
  } catch (e) {
    return send(res, 400, { errors: [e instanceof Error ? e.message : String(e)] });
  }
  const authorized = hasToken(req.headers.authorization, token);
  const answer = await handleApiRequest(ctx, { method: req.method ?? 'GET', path, query: url.searchParams, body, authorized });
  send(res, answer.status, answer.body);
}

function hasToken(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error(`request body over ${MAX_BODY / 1024} KiB`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new Error(`request body is not JSON: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

async function sendFile(res: ServerResponse, file: string): Promise<void> {
  const content = await readFile(file);
  res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
  res.end(content);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
