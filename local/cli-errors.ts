/**
 * What the `tidemark` command says when something goes wrong: ordinary mistakes get one
 * line (`tidemark: …`) and an exit status — 2 for usage (bad options, a job file that is
 * not there or not a job), 1 for what went wrong while running (an endpoint nobody answers
 * on, missing credentials, a job that does not exist, a call that kept failing). What is
 * ours to say is any `TidemarkError` — the emulator's `EmulatorError` and the adapters'
 * `AwsRequestError` included — whose message names what went wrong; errors of neither
 * family are bugs and keep their stack trace.
 */
import { TerminalError, TidemarkError, type CauseOption } from '../lib/core/errors.js';

/** The command line is wrong: exit status 2, with the usage text. */
export class UsageError extends TerminalError {
  readonly code = 'USAGE';
  constructor(
    message: string,
    /** Print the usage text after the message: when the command itself is missing or unknown. */
    readonly showUsage = false,
    options?: CauseOption,
  ) {
    super(message, options);
  }
}

export interface Report {
  readonly message: string;
  readonly exitCode: 1 | 2;
  /** Print the usage text after the message. */
  readonly usage: boolean;
}

/** Socket errors that mean nothing answers at the address (or the name does not resolve). */
const UNREACHABLE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

export function report(e: unknown, env: NodeJS.ProcessEnv = process.env): Report | null {
  if (e instanceof UsageError) return { message: e.message, exitCode: 2, usage: e.showUsage };
  const chain = causes(e);
  const socket = chain.find((c) => typeof c.code === 'string' && c.code in UNREACHABLE);
  if (socket) return { message: unreachable(socket, env), exitCode: 1, usage: false };
  if (chain.some((c) => c.name === 'CredentialsProviderError')) {
    return {
      message:
        'no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY' +
        (env.AWS_ENDPOINT_URL ? ` (an emulator at ${env.AWS_ENDPOINT_URL} takes any, e.g. test/test)` : ''),
      exitCode: 1,
      usage: false,
    };
  }
  if (e instanceof TidemarkError) return { message: e.message, exitCode: 1, usage: false };
  return null;
}

interface Link {
  readonly name?: string;
  readonly code?: unknown;
  readonly message?: string;
  readonly address?: string;
  readonly port?: number;
  readonly hostname?: string;
}

/** The error and its causes, outermost first (AggregateErrors, as Node's connect gives, included). */
function causes(e: unknown): Link[] {
  const out: Link[] = [];
  const visit = (x: unknown, depth: number) => {
    if (typeof x !== 'object' || x === null || depth > 10) return;
    out.push(x as Link);
    for (const inner of (x as { errors?: unknown[] }).errors ?? []) visit(inner, depth + 1);
    visit((x as { cause?: unknown }).cause, depth + 1);
  };
  visit(e, 0);
  return out;
}

function unreachable(socket: Link, env: NodeJS.ProcessEnv): string {
  const why = UNREACHABLE[socket.code as string]!;
  const at = socket.address !== undefined ? `${socket.address}${socket.port !== undefined ? `:${socket.port}` : ''}` : socket.hostname;
  if (env.AWS_ENDPOINT_URL) return `cannot reach AWS_ENDPOINT_URL=${env.AWS_ENDPOINT_URL}: ${why}${at ? ` (${at})` : ''}; is the emulator running?`;
  return `cannot reach AWS${at ? ` at ${at}` : ''}: ${why}`;
}
