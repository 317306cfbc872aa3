/**
 * Faults on the wire, injected at the AWS SDK edge (DESIGN §9): what real AWS calls do now
 * and then, on purpose and reproducibly, so that a local run shows whether anything above
 * the adapters lies or hangs because of them.
 *
 * - `throttle`: an SDK-shaped throttling error, before the request is sent (SQS's legacy
 *   `AWS.SimpleQueueService.RequestThrottled` as the SDK names it, S3's `SlowDown`,
 *   DynamoDB's `ThrottlingException`);
 * - `5xx`: a 500 or 503 of the service, before the request is sent;
 * - `latency`: the attempt waits up to `maxLatencyMs` before it is sent;
 * - `lost`: the request is sent and takes effect, then its response is lost (a socket
 *   reset): the SDK's retry sends it again — a conditional write then meets its own write.
 *
 * What must hold: the middleware runs once per attempt, inside the SDK's retry middleware,
 * so the SDK retries what it injects exactly as it retries real faults. Decisions come from
 * one seeded sequence per client and service: attempt k of a service always gets decision
 * k for a given seed (which attempt is k-th depends on the interleaving of concurrent calls).
 * It is an explicit option of `AwsConfig` (`wireFaults`), never switched on by itself.
 */
import { InvalidInputError } from '../../core/errors.js';
import { murmur3 } from '../../core/keygroups.js';
import { mulberry32 } from '../../core/rng.js';
import type { AwsService } from './errors.js';

export const WIRE_FAULT_KINDS = ['throttle', '5xx', 'latency', 'lost'] as const;
export type WireFaultKind = (typeof WIRE_FAULT_KINDS)[number];

export interface WireFaultOptions {
  /** Probability per attempt of each kind (absent: never). throttle + 5xx + lost must stay below 1. */
  readonly rates: Partial<Record<WireFaultKind, number>>;
  readonly seed: number;
  /** The longest delay of a `latency` fault. @default 200 */
  readonly maxLatencyMs?: number;
}

/** What was injected, per service and kind: read it like the request counters. */
export type WireFaultCounts = Record<AwsService, Record<WireFaultKind, number>>;

export const zeroWireFaultCounts = (): WireFaultCounts => ({ sqs: zeroKinds(), s3: zeroKinds(), dynamodb: zeroKinds(), kinesis: zeroKinds() });
const zeroKinds = (): Record<WireFaultKind, number> => ({ throttle: 0, '5xx': 0, latency: 0, lost: 0 });

export interface WireFaultDecision {
  readonly latencyMs: number;
  readonly fault: 'throttle' | '5xx' | 'lost' | null;
  /** Picks between a fault's shapes (503 or 500). */
  readonly variant: number;
}

export const DEFAULT_MAX_LATENCY_MS = 200;

/** Throws an InvalidInputError naming the offending rate; the CLI checks the same before a run. */
export function validateWireFaults(options: WireFaultOptions): void {
  for (const [kind, rate] of Object.entries(options.rates)) {
    if (!(WIRE_FAULT_KINDS as readonly string[]).includes(kind)) throw new InvalidInputError(`unknown wire fault kind ${JSON.stringify(kind)}`);
    if (!(typeof rate === 'number' && rate >= 0 && rate < 1)) throw new InvalidInputError(`wire fault rate of ${kind} must be from 0 up to 1, got ${rate}`);
  }
  const { throttle = 0, '5xx': server = 0, lost = 0 } = options.rates;
  const failing = throttle + server + lost;
  if (failing >= 1) throw new InvalidInputError(`throttle + 5xx + lost rates add up to ${Number(failing.toFixed(6))}: no request would get through`);
  if (options.maxLatencyMs !== undefined && !(options.maxLatencyMs >= 0)) throw new InvalidInputError(`maxLatencyMs must be 0 or more, got ${options.maxLatencyMs}`);
}

/** The decision sequence of one service: four draws per attempt, whatever is decided. */
export function wireFaultPlan(options: WireFaultOptions, service: AwsService): () => WireFaultDecision {
  const random = mulberry32(murmur3(service, options.seed));
  const { throttle = 0, '5xx': server = 0, lost = 0, latency = 0 } = options.rates;
  const maxLatency = options.maxLatencyMs ?? DEFAULT_MAX_LATENCY_MS;
  return () => {
    const [late, delay, pick, variant] = [random(), random(), random(), random()];
    const fault = pick < throttle ? 'throttle' : pick < throttle + server ? '5xx' : pick < throttle + server + lost ? 'lost' : null;
    return { latencyMs: late < latency ? Math.round(delay * maxLatency) : 0, fault, variant };
  };
}

type Stack = { add(middleware: unknown, options: object): void };

/** Adds the fault injector to a client's stack, per attempt; counts go to `counts`. */
export function injectWireFaults(client: { middlewareStack: unknown }, service: AwsService, options: WireFaultOptions, counts: Record<WireFaultKind, number>): void {
  validateWireFaults(options);
  const decide = wireFaultPlan(options, service);
  type Next = (args: unknown) => Promise<{ response?: unknown }>;
  (client.middlewareStack as Stack).add(
    (next: Next) => async (args: unknown) => {
      const d = decide();
      if (d.latencyMs > 0) {
        counts.latency++;
        await new Promise((resolve) => setTimeout(resolve, d.latencyMs));
      }
      if (d.fault === 'throttle') throw countAnd(counts, 'throttle', throttlingError(service));
      if (d.fault === '5xx') throw countAnd(counts, '5xx', serverError(service, d.variant));
      if (d.fault === 'lost') {
        const answer = await next(args).catch(() => undefined);
        discardBody(answer?.response);
        throw countAnd(counts, 'lost', lostResponse());
      }
      return next(args);
    },
    // Low priority in finalizeRequest: inside the retry middleware (high), once per attempt.
    { step: 'finalizeRequest', priority: 'low', name: 'tidemarkWireFaults' },
  );
}

function countAnd(counts: Record<WireFaultKind, number>, kind: WireFaultKind, error: Error): Error {
  counts[kind]++;
  return error;
}

const THROTTLING: Record<AwsService, { name: string; status: number }> = {
  // SQS's throttling answer carries this legacy code (x-amzn-query-error); the SDK names the error after it.
  sqs: { name: 'AWS.SimpleQueueService.RequestThrottled', status: 400 },
  s3: { name: 'SlowDown', status: 503 },
  dynamodb: { name: 'ThrottlingException', status: 400 },
  kinesis: { name: 'ProvisionedThroughputExceededException', status: 400 },
};

const SERVER: Record<AwsService, string> = { sqs: 'InternalFailure', s3: 'InternalError', dynamodb: 'InternalServerError', kinesis: 'InternalFailure' };

function sdkShaped(name: string, status: number, kind: WireFaultKind, message: string): Error {
  return Object.assign(new Error(`${message} (injected wire fault)`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
    $wireFault: kind,
  });
}

const throttlingError = (service: AwsService) => sdkShaped(THROTTLING[service].name, THROTTLING[service].status, 'throttle', 'Rate exceeded');

const serverError = (service: AwsService, variant: number) =>
  variant < 0.5 ? sdkShaped('ServiceUnavailable', 503, '5xx', 'Service unavailable') : sdkShaped(SERVER[service], 500, '5xx', 'We encountered an internal error');

/** What Node gives when the connection drops before the response arrives. */
const lostResponse = () =>
  Object.assign(new Error('socket hang up: the response was lost after the request took effect (injected wire fault)'), {
    code: 'ECONNRESET',
    $metadata: {},
    $wireFault: 'lost' as const,
  });

/** A lost response's body (GetObject's stream) is never read: release its socket. */
function discardBody(response: unknown): void {
  const body = (response as { body?: { destroy?: () => void } } | undefined)?.body;
  if (body && typeof body.destroy === 'function') body.destroy();
}
