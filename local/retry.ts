/**
 * Patience for the CLI's own calls — provisioning, the status polling of `tidemark run`, the
 * restore it forces, reading the sinks' output — which talk to the same AWS endpoint as the
 * job and meet the same throttling and 5xx. One call that failed the SDK's few attempts must
 * not end a run whose job is healthy: a `TransientStorageError` is retried with exponential
 * backoff and jitter until a bounded total time has passed, and only then reported, as one
 * `GaveUpError` naming what was being done and what kept failing.
 *
 * What must hold: only idempotent calls are given to `patiently` (reads, conditional or
 * resumable writes), since a failed attempt may have taken effect. Anything but a transient
 * error is thrown at once.
 */
import { TerminalError, TransientStorageError } from '../lib/core/errors.js';

export interface Patience {
  /** Give up when the next attempt would start after this long. @default 60 s */
  readonly totalMs?: number;
  /** @default 200 ms, doubling up to `maxDelayMs` */
  readonly firstDelayMs?: number;
  /** @default 5 s */
  readonly maxDelayMs?: number;
  /** Told of each retry (the CLI shows it among its progress lines). */
  readonly onRetry?: (what: string, attempt: number, error: TransientStorageError) => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

/** A call of the CLI's own kept failing transiently for the whole of its patience. */
export class GaveUpError extends TerminalError {
  readonly code = 'GAVE_UP';
  constructor(
    readonly what: string,
    readonly attempts: number,
    readonly elapsedMs: number,
    options: { readonly cause: TransientStorageError },
  ) {
    super(`${what}: ${describeTransient(options.cause)}, still failing after ${attempts} attempts in ${(elapsedMs / 1000).toFixed(1)} s`, options);
  }
}

/** The transient error with the AWS code or message behind it, e.g. `dynamodb GetItem failed transiently (SlowDown: …)`. */
function describeTransient(e: TransientStorageError): string {
  const cause = e.cause as { name?: string; code?: string; message?: string } | undefined;
  if (!cause) return e.message;
  const code = cause.name && cause.name !== 'Error' ? cause.name : cause.code;
  return `${e.message} (${[code, cause.message].filter(Boolean).join(': ')})`;
}

export async function patiently<T>(what: string, call: () => Promise<T>, patience: Patience = {}): Promise<T> {
  const now = patience.now ?? Date.now;
  const sleep = patience.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = patience.random ?? Math.random;
  const totalMs = patience.totalMs ?? 60_000;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof TransientStorageError)) throw e;
      const delay = Math.min(patience.maxDelayMs ?? 5_000, (patience.firstDelayMs ?? 200) * 2 ** (attempt - 1)) * (0.5 + random() / 2);
      const elapsed = now() - started;
      if (elapsed + delay > totalMs) throw new GaveUpError(what, attempt, elapsed, { cause: e });
      patience.onRetry?.(what, attempt, e);
      await sleep(delay);
    }
  }
}
