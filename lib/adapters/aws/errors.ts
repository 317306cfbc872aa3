/**
 * SDK exceptions translated at the edge (DESIGN §2), so that nothing past the adapters sees
 * an AWS error shape:
 * - throttling, 5xx, timeouts and network errors → `TransientStorageError` (retryable);
 * - a DynamoDB item over the size limit → `ItemTooLargeError` (terminal);
 * - a failed condition is not an error at all: each adapter turns it into its method's
 *   "false" / "rejected" result with the predicates below;
 * - anything else (access denied, a missing queue or table, a malformed request) →
 *   `AwsRequestError`, of the retryable family yet never retried on the spot (only a
 *   `TransientStorageError` is): the runtime does not fail the job over on it; the batch
 *   fails, and SQS redelivers then dead-letters it (`classify`: retry).
 * Every translated error keeps the SDK error as its `cause`. The clients (clients.ts) make the
 * SDK retry whatever `isTransient` says, so the SDK's retries and this classification agree.
 */
import { ItemTooLargeError, RetryableError, TransientStorageError, type CauseOption } from '../../core/errors.js';

export type AwsService = 'sqs' | 's3' | 'dynamodb' | 'kinesis';

/** An AWS call failed in a way this edge does not classify; names the call and AWS's code.
 *  The message ends with the cause's (AWS's own words). */
export class AwsRequestError extends RetryableError {
  readonly code = 'AWS_REQUEST';
  constructor(
    readonly service: AwsService,
    readonly operation: string,
    readonly awsCode: string,
    readonly httpStatus: number | undefined,
    options: CauseOption,
  ) {
    super(`${service} ${operation} failed: ${awsCode}${httpStatus ? ` (HTTP ${httpStatus})` : ''}: ${messageOf(options.cause)}`, options);
  }
}

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $fault?: 'client' | 'server';
  $retryable?: { throttling?: boolean };
  $metadata?: { httpStatusCode?: number };
}

const shape = (e: unknown): SdkErrorShape => (typeof e === 'object' && e !== null ? (e as SdkErrorShape) : {});
const messageOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** AWS's error code (the exception name in SDK v3; S3 also sets `Code`). */
export const awsCode = (e: unknown): string => {
  const s = shape(e);
  return s.name && s.name !== 'Error' ? s.name : (s.Code ?? s.code ?? 'Unknown');
};

export const httpStatus = (e: unknown): number | undefined => shape(e).$metadata?.httpStatusCode;

const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  // Kinesis: a shard's read or write throughput is exceeded.
  'ProvisionedThroughputExceededException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'LimitExceededException',
  'SlowDown',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'TransactionInProgressException',
  'KMSThrottlingException',
  'AWS.SimpleQueueService.RequestThrottled',
]);

const TRANSIENT_CODES = new Set([
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'PriorRequestNotComplete',
  'AWS.SimpleQueueService.ServiceUnavailable',
  'KmsThrottled',
]);

/** Socket-level failures (Node's errno codes): the request may not have reached AWS. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** AWS asked us to slow down (the SDK then backs off longer than for other transient errors). */
export function isThrottling(e: unknown): boolean {
  const s = shape(e);
  return s.$retryable?.throttling === true || THROTTLING.has(awsCode(e)) || s.$metadata?.httpStatusCode === 429;
}

export function isTransient(e: unknown): boolean {
  const s = shape(e);
  const code = awsCode(e);
  const status = s.$metadata?.httpStatusCode;
  return (
    isThrottling(e) ||
    TRANSIENT_CODES.has(code) ||
    NETWORK_CODES.has(code) ||
    NETWORK_CODES.has(s.code ?? '') ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    (status === undefined && s.$fault === 'server')
  );
}

/** DynamoDB: a ConditionExpression did not hold. */
export const isConditionFailed = (e: unknown) => awsCode(e) === 'ConditionalCheckFailedException';

/** S3: `If-None-Match: *` found the object (412). */
export const isPreconditionFailed = (e: unknown) => awsCode(e) === 'PreconditionFailed' || httpStatus(e) === 412;

/** S3: a concurrent conditional write on the same key was in progress (409); check again. */
export const isConditionalConflict = (e: unknown) => awsCode(e) === 'ConditionalRequestConflict' || httpStatus(e) === 409;

export const isNoSuchKey = (e: unknown) => awsCode(e) === 'NoSuchKey' || (httpStatus(e) === 404 && awsCode(e) !== 'NoSuchBucket');

/** DynamoDB's rejection of an item over 400 KB (a ValidationException with this text). */
export const isItemTooLarge = (e: unknown) =>
  awsCode(e) === 'ValidationException' && /item size (has )?exceeded|item size to update has exceeded/i.test(messageOf(e));

/**
 * The error to throw for a failed call. `item` names the DynamoDB item a write was for, so
 * that an over-size rejection says which one.
 */
export function translateError(
  service: AwsService,
  operation: string,
  e: unknown,
  item?: { key: string; bytes: number; limit: number },
): Error {
  if (isTransient(e)) return new TransientStorageError(`${service} ${operation}`, { cause: e });
  if (item && isItemTooLarge(e)) return new ItemTooLargeError(item.key, item.bytes, item.limit, { cause: e });
  return new AwsRequestError(service, operation, awsCode(e), httpStatus(e), { cause: e });
}

/** Runs one SDK call, translating its failure. */
export async function attempt<T>(service: AwsService, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw translateError(service, operation, e);
  }
}
