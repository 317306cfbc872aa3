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

/**
 * List prices, us-east-1, USD. AWS's pricing pages themselves could not be fetched when the
 * table was made; each figure was taken from public summaries of them (cited below), which
 * agree with each other and with the values AWS has published since its last changes
 * (DynamoDB on-demand halved on 2024-11-01; SQS, S3 request and Lambda prices unchanged for
 * years). Change `date` when you change a figure.
 */
export interface PriceTable {
  readonly date: string;
  readonly region: string;
  readonly sources: readonly string[];
  readonly sqsFifoPerMillion: number;
  readonly sqsStandardPerMillion: number;
  readonly dynamodbWritePerMillion: number;
  readonly dynamodbReadPerMillion: number;
  readonly s3Tier1PerThousand: number;
  readonly s3Tier2PerThousand: number;
  readonly lambdaPerMillionRequests: number;
  readonly lambdaArmPerGbSecond: number;
}

export const PRICES: PriceTable = {
  date: '2026-06-13',
  region: 'us-east-1',
  sources: [
    'https://aws.amazon.com/sqs/pricing/ (via cloudburn.io/blog/amazon-sqs-pricing, 2026-03-14, and factualminds.com, 2026-06-13)',
    'https://aws.amazon.com/dynamodb/pricing/on-demand/ (via airbyte.com/data-engineering-resources/dynamodb-pricing)',
    'https://aws.amazon.com/s3/pricing/ (via c3x.dev/blog/s3-request-fees-explained)',
    'https://aws.amazon.com/lambda/pricing/ (via cloudchipr.com/blog/aws-lambda-pricing)',
  ],
  /** Per million requests (64 KiB chunks), first tier (up to 100 billion a month). */
  sqsFifoPerMillion: 0.5,
  sqsStandardPerMillion: 0.4,
  /** On-demand, Standard table class, per million request units. */
  dynamodbWritePerMillion: 0.625,
  dynamodbReadPerMillion: 0.125,
  /** S3 Standard, per 1,000 requests. */
  s3Tier1PerThousand: 0.005,
  s3Tier2PerThousand: 0.0004,
  /** Lambda: per million requests; per GB-second on arm64 (the construct's architecture), first tier. */
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
};

/** One 64 KiB chunk of an SQS payload is one billed request. */
export const SQS_CHUNK_BYTES = 64 * 1024;
/** A DynamoDB write request unit covers 1 KB, a read request unit 4 KB. */
export const DYNAMODB_WRITE_UNIT_BYTES = 1024;
export const DYNAMODB_READ_UNIT_BYTES = 4096;

/** Billed SQS requests of one API call carrying `payloadBytes` (message bodies), per attempt. */
export const sqsBilledRequests = (payloadBytes: number): number => Math.max(1, Math.ceil(payloadBytes / SQS_CHUNK_BYTES));

/** WRU of writing (or deleting) one item of `itemBytes`. */
export const dynamodbWriteUnits = (itemBytes: number, options: { transactional?: boolean } = {}): number =>
  Math.max(1, Math.ceil(itemBytes / DYNAMODB_WRITE_UNIT_BYTES)) * (options.transactional ? 2 : 1);

/** RRU of one read (GetItem, or one Query over all it returns) of `bytes`. */
export const dynamodbReadUnits = (bytes: number, options: { consistent?: boolean; transactional?: boolean } = {}): number =>
  Math.max(1, Math.ceil(bytes / DYNAMODB_READ_UNIT_BYTES)) * (options.transactional ? 2 : options.consistent === false ? 0.5 : 1);

/** GB-seconds of one invocation: memory in GB (MiB / 1024) times its duration rounded up to the ms. */
export const lambdaGbSeconds = (durationMs: number, memoryMiB: number): number => (Math.max(1, Math.ceil(durationMs)) / 1000) * (memoryMiB / 1024);

/** UTF-8 length of a string (what SQS and DynamoDB measure). */
export function utf8Bytes(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** A DynamoDB attribute value, structurally (core does not import the SDK). */
export interface AttributeLike {
  readonly S?: string;
  readonly N?: string;
  readonly B?: Uint8Array;
  readonly BOOL?: boolean;
  readonly NULL?: boolean;
  readonly M?: Record<string, AttributeLike>;
  readonly L?: readonly AttributeLike[];
  readonly SS?: readonly string[];
  readonly NS?: readonly string[];
}

/**
 * An item's size by DynamoDB's rules: per attribute, its name's UTF-8 length plus its value's
 * (strings: UTF-8 length; numbers: about 1 byte per 2 significant digits + 1; booleans and
 * null: 1; lists and maps: 3 + their elements, 1 more per element).
 */
export function dynamodbItemBytes(item: Readonly<Record<string, AttributeLike>>): number {
  let n = 0;
  for (const [name, value] of Object.entries(item)) n += utf8Bytes(name) + valueBytes(value);
  return n;
}

function valueBytes(v: AttributeLike): number {
  if (v.S !== undefined) return utf8Bytes(v.S);
  if (v.N !== undefined) return numberBytes(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((n, [k, x]) => n + utf8Bytes(k) + valueBytes(x) + 1, 0);
  if (v.L !== undefined) return 3 + v.L.reduce((n, x) => n + valueBytes(x) + 1, 0);
  if (v.SS !== undefined) return v.SS.reduce((n, s) => n + utf8Bytes(s), 0);
  if (v.NS !== undefined) return v.NS.reduce((n, s) => n + numberBytes(s), 0);
  return 0;
}

const numberBytes = (n: string) => Math.ceil(n.replace(/^[-+]|[.eE].*$/g, '').replace(/^0+/, '').length / 2) + 1;

/** Lambda roles as the construct configures them. */
export type LambdaRole = 'operator' | 'coordinator' | 'recovery';

/** The billing units counted so far: plain, mutable counters (see `Billing`). */
export interface BillingUnits {
  /** SQS API calls, and what they bill: 64 KiB chunks, per attempt, by queue type. */
  sqsRequests: number;
  sqsFifoBilled: number;
  sqsStandardBilled: number;
  /** Messages sent, their bodies' total and largest size, and how many were over 64 KiB. */
  sqsMessagesSent: number;
  sqsBodyBytesSent: number;
  sqsLargestBody: number;
  sqsBodiesOver64KiB: number;
  dynamodbRequests: number;
  dynamodbWriteUnits: number;
  dynamodbReadUnits: number;
  /** S3 requests by price tier (DELETE is free and counted in `s3Free`). */
  s3Tier1: number;
  s3Tier2: number;
  s3Free: number;
  lambdaInvocations: number;
  lambdaGbSeconds: number;
  /** Where the figures come from: the adapters' own computation, or DynamoDB's ConsumedCapacity. */
  dynamodbUnitsFrom: 'computed' | 'consumed-capacity' | 'both';
}

export const zeroUnits = (): BillingUnits => ({
  sqsRequests: 0,
  sqsFifoBilled: 0,
  sqsStandardBilled: 0,
  sqsMessagesSent: 0,
  sqsBodyBytesSent: 0,
  sqsLargestBody: 0,
  sqsBodiesOver64KiB: 0,
  dynamodbRequests: 0,
  dynamodbWriteUnits: 0,
  dynamodbReadUnits: 0,
  s3Tier1: 0,
  s3Tier2: 0,
  s3Free: 0,
  lambdaInvocations: 0,
  lambdaGbSeconds: 0,
  dynamodbUnitsFrom: 'computed',
});

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
