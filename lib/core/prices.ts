/**
 * The dated list-price table of `core/cost` (see there for what each unit means).
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
