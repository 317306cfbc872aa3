/**
 * The bill: billing units by AWS's rules and their dollars at a price table. Every expected
 * figure is worked out by hand in the row that states it.
 */
import { describe, expect, it } from 'vitest';
import {
  Billing,
  costByService,
  costReport,
  dynamodbItemBytes,
  dynamodbReadUnits,
  dynamodbWriteUnits,
  lambdaGbSeconds,
  PRICES,
  sqsBilledRequests,
  utf8Bytes,
  zeroUnits,
  type BillingUnits,
  type PriceTable,
} from '../../lib/core/cost.js';

const KiB = 1024;

describe('billing units', () => {
  it.each([
    [0, 1], // an empty call is still a request
    [1, 1],
    [64 * KiB, 1],
    [64 * KiB + 1, 2],
    [70 * KiB, 2], // one 70 KiB message: 2 chunks
    [256 * KiB, 4], // AWS's own example: a 256 KB payload is 4 requests
    [1024 * KiB, 16],
  ])('SQS: %i payload bytes are %i billed requests', (bytes, billed) => expect(sqsBilledRequests(bytes)).toBe(billed));

  it.each([
    [0, {}, 1],
    [1024, {}, 1],
    [1025, {}, 2],
    [3 * 1024, {}, 3], // AWS's example: a 3 KB item is 3 WRU …
    [3 * 1024, { transactional: true }, 6], // … and 6 in a transaction
  ])('DynamoDB write of %i bytes %o: %i WRU', (bytes, options, units) => expect(dynamodbWriteUnits(bytes, options)).toBe(units));

  it.each([
    [3500, {}, 1], // rounded up to 4 KB
    [8 * 1024, { consistent: true }, 2], // AWS's example: 8 KB strongly consistent = 2
    [8 * 1024, { consistent: false }, 1], // eventually consistent: half
    [8 * 1024, { transactional: true }, 4], // transactional: twice
  ])('DynamoDB read of %i bytes %o: %i RRU', (bytes, options, units) => expect(dynamodbReadUnits(bytes, options)).toBe(units));

  it.each([
    [100, 1024, 0.1], // 1 GB for 0.1 s
    [0.2, 1024, 0.001], // rounded up to 1 ms
    [1000.4, 512, 0.5005], // 1001 ms at 0.5 GB
  ])('Lambda: %f ms at %i MiB is %f GB-s', (ms, mib, gbs) => expect(lambdaGbSeconds(ms, mib)).toBeCloseTo(gbs, 12));

  it('item sizes: attribute names plus values, UTF-8', () => {
    // "pk"(2) + "job#a"(5) + "sk"(2) + "x"(1) + "n"(1) + "12345"(3 digits-pairs → ceil(5/2)+1 = 4) + "é"(2 bytes)
    expect(dynamodbItemBytes({ pk: { S: 'job#a' }, sk: { S: 'x' }, n: { N: '12345' } })).toBe(2 + 5 + 2 + 1 + 1 + 4);
    expect(utf8Bytes('é€😀')).toBe(2 + 3 + 4);
  });

  it('the counters', () => {
    const b = new Billing();
    b.sqsCall('q.fifo', 70 * KiB); // 2
    b.sqsCall('q.fifo', 10, 3); // 3 attempts of 1
    b.sqsCall('timer', 0); // standard: 1
    b.sqsBodies([70 * KiB, 10]);
    b.dynamodbCall({ write: 3 });
    b.dynamodbCall({ read: 0.5 }, 'consumed-capacity');
    b.s3Call(1);
    b.s3Call(2, 2);
    b.s3Call('free');
    b.lambdaInvocation(100, 1024);
    expect(b.units).toMatchObject({
      sqsRequests: 5,
      sqsFifoBilled: 5,
      sqsStandardBilled: 1,
      sqsMessagesSent: 2,
      sqsLargestBody: 70 * KiB,
      sqsBodiesOver64KiB: 1,
      dynamodbRequests: 2,
      dynamodbWriteUnits: 3,
      dynamodbReadUnits: 0.5,
      dynamodbUnitsFrom: 'both',
      s3Tier1: 1,
      s3Tier2: 2,
      s3Free: 1,
      lambdaInvocations: 1,
    });
    expect(b.units.lambdaGbSeconds).toBeCloseTo(0.1, 12);
  });
});

/** Round prices, so that the hand computations below are easy to follow. */
const ROUND: PriceTable = {
  ...PRICES,
  date: 'test',
  sqsFifoPerMillion: 0.5,
  sqsStandardPerMillion: 0.4,
  dynamodbWritePerMillion: 1,
  dynamodbReadPerMillion: 0.25,
  s3Tier1PerThousand: 0.005,
  s3Tier2PerThousand: 0.0004,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.00001,
};

const units = (u: Partial<BillingUnits>): BillingUnits => ({ ...zeroUnits(), ...u });

describe('dollars', () => {
  it.each<[string, Partial<BillingUnits>, { sqs: number; dynamodb: number; s3: number; lambda: number }]>([
    ['nothing', {}, { sqs: 0, dynamodb: 0, s3: 0, lambda: 0 }],
    // 2M FIFO × 0.5/M = 1; 1M standard × 0.4/M = 0.4
    ['SQS', { sqsFifoBilled: 2e6, sqsStandardBilled: 1e6 }, { sqs: 1.4, dynamodb: 0, s3: 0, lambda: 0 }],
    // 3M WRU × 1/M = 3; 4M RRU × 0.25/M = 1
    ['DynamoDB', { dynamodbWriteUnits: 3e6, dynamodbReadUnits: 4e6 }, { sqs: 0, dynamodb: 4, s3: 0, lambda: 0 }],
    // 2,000 PUT × 0.005/1000 = 0.01; 10,000 GET × 0.0004/1000 = 0.004; DELETE free
    ['S3', { s3Tier1: 2000, s3Tier2: 10_000, s3Free: 5000 }, { sqs: 0, dynamodb: 0, s3: 0.014, lambda: 0 }],
    // 1M invocations × 0.2/M = 0.2; 100,000 GB-s × 0.00001 = 1
    ['Lambda', { lambdaInvocations: 1e6, lambdaGbSeconds: 100_000 }, { sqs: 0, dynamodb: 0, s3: 0, lambda: 1.2 }],
  ])('%s', (_, u, expected) => {
    const got = costByService(units(u), ROUND);
    for (const k of ['sqs', 'dynamodb', 's3', 'lambda'] as const) expect(got[k]).toBeCloseTo(expected[k], 12);
  });

  it('in all, per checkpoint and per million records', () => {
    // SQS 1M FIFO = 0.5; DynamoDB 1M WRU = 1; S3 1,000 PUT = 0.005; Lambda 1M invocations = 0.2 → 1.705
    const u = units({ sqsFifoBilled: 1e6, dynamodbWriteUnits: 1e6, s3Tier1: 1000, lambdaInvocations: 1e6 });
    const r = costReport(u, { completedCheckpoints: 5, sourceRecords: 2e6 }, ROUND);
    expect(r.total).toBeCloseTo(1.705, 12);
    expect(r.perCheckpoint).toBeCloseTo(1.705 / 5, 12);
    expect(r.perMillionRecords).toBeCloseTo(1.705 / 2, 12);
    expect(r.prices).toBe('test');
    expect(r.units).toEqual(u);
    const none = costReport(u, { completedCheckpoints: 0, sourceRecords: 0 }, ROUND);
    expect([none.perCheckpoint, none.perMillionRecords]).toEqual([null, null]);
  });

  it('the price table is dated and cites where each figure came from', () => {
    expect(PRICES.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const service of ['sqs', 'dynamodb', 's3', 'lambda']) expect(PRICES.sources.some((s) => s.includes(`aws.amazon.com/${service}/pricing`))).toBe(true);
  });
});
