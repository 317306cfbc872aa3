/**
 * Billing units as AWS counts them (see `core/cost`): the per-request rules, the item and
 * string sizes they are measured by, and the counters of a run.
 */

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
