/**
 * What AWS would bill: the billing units a run used (counted at the adapters' edge and by
 * the local Lambda host) and their cost at list prices. Pure: the counters are plain data,
 * the prices a dated table, and `costReport` turns one into dollars with the other.
 *
 * Billing units, as AWS defines them:
 * - SQS: every API call is a request, and each 64 KiB chunk of its payload is billed as one
 *   request (a SendMessageBatch of 200 KiB of bodies: 4; a ReceiveMessage returning 70 KiB: 2);
 *   requests on FIFO queues have their own, higher price. Every attempt is billed.
 * - DynamoDB on demand: a write request unit (WRU) per 1 KB of the item written (at least 1),
 *   twice that in a transaction; a read request unit (RRU) per 4 KB read, strongly consistent
 *   (half for an eventually consistent read, twice in a transaction). A Query is rounded up
 *   once over all the items it returns.
 * - S3 Standard: PUT/COPY/POST/LIST requests (tier 1) and GET/HEAD/SELECT requests (tier 2)
 *   per 1,000; DELETE is free.
 * - Lambda: a request per invocation, and GB-seconds: the configured memory times the
 *   duration, rounded up to the millisecond per invocation.
 * Storage (S3 GB-months, DynamoDB GB-months) and data transfer are not counted: a run is too
 * short for storage to register, and everything stays within one region.
 */
import { PRICES, type PriceTable } from './prices.js';
import { dynamodbReadUnits, dynamodbWriteUnits, lambdaGbSeconds, sqsBilledRequests, SQS_CHUNK_BYTES, zeroUnits, type BillingUnits, type LambdaRole } from './billing-units.js';

export * from './prices.js';
export * from './billing-units.js';

/**
 * The counters the adapters and the local host add to. Each method records one API call
 * (or invocation) with the facts AWS bills it by.
 */
export class Billing {
  readonly units: BillingUnits = zeroUnits();

  /** One SQS call on `queue` (a name or URL) carrying `payloadBytes`, made `attempts` times. */
  sqsCall(queue: string, payloadBytes: number, attempts = 1): void {
    const u = this.units;
    u.sqsRequests += attempts;
    const billed = sqsBilledRequests(payloadBytes) * attempts;
    if (queue.endsWith('.fifo')) u.sqsFifoBilled += billed;
    else u.sqsStandardBilled += billed;
  }

  /** Bodies handed to SendMessageBatch (for the size figures, not the bill). */
  sqsBodies(bodyBytes: readonly number[]): void {
    const u = this.units;
    for (const b of bodyBytes) {
      u.sqsMessagesSent++;
      u.sqsBodyBytesSent += b;
      if (b > u.sqsLargestBody) u.sqsLargestBody = b;
      if (b > SQS_CHUNK_BYTES) u.sqsBodiesOver64KiB++;
    }
  }

  /** One DynamoDB call and the units it consumed. */
  dynamodbCall(units: { read?: number; write?: number }, from: 'computed' | 'consumed-capacity' = 'computed'): void {
    const u = this.units;
    u.dynamodbRequests++;
    u.dynamodbReadUnits += units.read ?? 0;
    u.dynamodbWriteUnits += units.write ?? 0;
    if (u.dynamodbRequests === 1) u.dynamodbUnitsFrom = from;
    else if (u.dynamodbUnitsFrom !== from) u.dynamodbUnitsFrom = 'both';
  }

  s3Call(tier: 1 | 2 | 'free', attempts = 1): void {
    if (tier === 1) this.units.s3Tier1 += attempts;
    else if (tier === 2) this.units.s3Tier2 += attempts;
    else this.units.s3Free += attempts;
  }

  lambdaInvocation(durationMs: number, memoryMiB: number): void {
    this.units.lambdaInvocations++;
    this.units.lambdaGbSeconds += lambdaGbSeconds(durationMs, memoryMiB);
  }
}

/** Dollars by service. */
export interface CostByService {
  readonly sqs: number;
  readonly dynamodb: number;
  readonly s3: number;
  readonly lambda: number;
}

/**
 * The `cost` object of `tidemark run --json`: dollars at list prices (`prices` is the
 * table's date), in all, per completed checkpoint (the run's cost spread over its
 * checkpoints, not one checkpoint's own cost; null without one) and per million source
 * records (null without records), by service, and the units they were computed from.
 */
export interface CostReport {
  readonly prices: string;
  readonly region: string;
  readonly total: number;
  readonly perCheckpoint: number | null;
  readonly perMillionRecords: number | null;
  readonly byService: CostByService;
  readonly units: BillingUnits;
  /** What the figures leave out or estimate. */
  readonly notes: readonly string[];
}

/** Dollars of `units` at `prices`, by service. */
export function costByService(units: BillingUnits, prices: PriceTable = PRICES): CostByService {
  return {
    sqs: (units.sqsFifoBilled * prices.sqsFifoPerMillion + units.sqsStandardBilled * prices.sqsStandardPerMillion) / 1e6,
    dynamodb: (units.dynamodbWriteUnits * prices.dynamodbWritePerMillion + units.dynamodbReadUnits * prices.dynamodbReadPerMillion) / 1e6,
    s3: (units.s3Tier1 * prices.s3Tier1PerThousand + units.s3Tier2 * prices.s3Tier2PerThousand) / 1e3,
    lambda: (units.lambdaInvocations * prices.lambdaPerMillionRequests) / 1e6 + units.lambdaGbSeconds * prices.lambdaArmPerGbSecond,
  };
}

export function costReport(
  units: BillingUnits,
  facts: { readonly completedCheckpoints: number; readonly sourceRecords: number; readonly notes?: readonly string[] },
  prices: PriceTable = PRICES,
): CostReport {
  const byService = costByService(units, prices);
  const total = byService.sqs + byService.dynamodb + byService.s3 + byService.lambda;
  return {
    prices: prices.date,
    region: prices.region,
    total,
    perCheckpoint: facts.completedCheckpoints > 0 ? total / facts.completedCheckpoints : null,
    perMillionRecords: facts.sourceRecords > 0 ? (total / facts.sourceRecords) * 1e6 : null,
    byService,
    units: { ...units },
    notes: facts.notes ?? [],
  };
}

/** `$0.000123` — enough digits for a run's fraction of a cent. */
export function dollars(x: number): string {
  if (x === 0) return '$0';
  if (x >= 1) return `$${x.toFixed(2)}`;
  return `$${x.toPrecision(3)}`;
}
