/**
 * The word-count example's storage, alarms and outputs with default props. Reads only the
 * template, so it synthesizes lean (no bundling; template.test.ts bundles).
 */
import { Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTopology, type Topology } from '../../lib/core/topology.js';
import { functionIdOf, loadJob, logicalIdOf, queueIdOf, synthJob, type Synthesized } from './synth.js';

let s: Synthesized;
let topology: Topology;
const queueId = (name: string) => queueIdOf(s.template, name);

beforeAll(async () => {
  s = await synthJob('examples/wordcount.ts', {}, { lean: true });
  topology = compileTopology((await loadJob('examples/wordcount.ts')).build());
});
afterAll(() => s.cleanup());

describe('storage', () => {
  it('has one bucket: encrypted, no public access, TLS only, multipart uploads aborted, kept on delete', () => {
    s.template.resourceCountIs('AWS::S3::Bucket', 1);
    s.template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: {
        BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: { Rules: [{ Id: 'AbortIncompleteMultipartUploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }] },
        BucketName: Match.absent(),
      },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('has one table: pk/sk, on demand, point-in-time recovery, KMS encryption, protected', () => {
    s.template.resourceCountIs('AWS::DynamoDB::Table', 1);
    s.template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });
});

describe('alarms and outputs', () => {
  it('alarms on dead-letter depth and message age per stage, and on failed checkpoints', () => {
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 3 * topology.stages.length + 1);
    // No metric math anywhere: the embedded emulator rejects it, and the stack must deploy
    // unchanged to AWS and to the emulator.
    expect(Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).filter((a) => a.Properties.Metrics)).toEqual([]);
    for (const stage of topology.stages) {
      for (const metric of ['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible']) {
        s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          Namespace: 'AWS/SQS',
          MetricName: metric,
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId(stage.deadLetterQueue), 'QueueName'] } }],
          Statistic: 'Maximum',
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
        });
      }
      s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId(stage.queue), 'QueueName'] } }],
        Statistic: 'Maximum',
        Threshold: 900,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 3,
      });
    }
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Tidemark',
      MetricName: 'FailedCheckpoints',
      Dimensions: [{ Name: 'Job', Value: 'wordcount' }],
      Statistic: 'Sum',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('outputs the bucket, the table and every queue', () => {
    const outputs = s.template.findOutputs('*');
    const values = Object.values(outputs).map((o) => JSON.stringify(o.Value));
    expect(values).toContain(JSON.stringify({ Ref: logicalIdOf(s.template, 'AWS::S3::Bucket') }));
    expect(values).toContain(JSON.stringify({ Ref: logicalIdOf(s.template, 'AWS::DynamoDB::Table') }));
    for (const name of [...topology.stages.flatMap((t) => [t.queue, t.deadLetterQueue]), topology.resources.timerQueue]) {
      expect(values).toContain(JSON.stringify({ 'Fn::GetAtt': [queueId(name), 'QueueName'] }));
    }
    expect(values).toContain(JSON.stringify({ Ref: functionIdOf(s.template, /checkpoint coordinator/) }));
    expect(Object.keys(outputs)).toHaveLength(2 + 2 * topology.stages.length + 2);
  });
});
