/**
 * The job's durable storage: one S3 bucket (snapshots, spilled working state, sink output)
 * and one DynamoDB table (job item, checkpoint manifest, working state), as the resource
 * spec (core/resource-spec) describes them, hardened for AWS. Both are named by
 * CloudFormation (bucket names are global) and reach the handlers through their
 * environment. `grantData` is the single place that decides what a function may do to them.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { JobGraph } from '../lib/core/graph.js';
import type { JobName } from '../lib/core/ids.js';
import { BUCKET_SPEC, TABLE_SPEC, type KeyAttribute, type TableSpec } from '../lib/core/resource-spec.js';
import { jobResources } from '../lib/core/topology.js';
import { blobKeys } from '../lib/core/wire/storage-keys.js';
import { acceptNoAccessLogs } from './nag-suppressions.js';

/**
 * The calls lib/adapters/aws makes on the table: GetItem, PutItem (conditional), UpdateItem
 * (a checkpoint's counters), DeleteItem, Query, BatchWriteItem, and TransactWriteItems, which
 * AWS authorizes as its items' PutItem and UpdateItem. test/infra checks this list against the
 * adapters' SDK commands.
 */
export const TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem'];
/** PutObject (also conditional, If-None-Match), GetObject (also HeadObject), DeleteObjects. */
export const OBJECT_ACTIONS = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'];

export interface JobStorageProps {
  readonly graph: JobGraph;
  readonly stagedSinkExpiration?: Duration;
  readonly serverAccessLogsBucket?: s3.IBucket;
  readonly removalPolicy: RemovalPolicy;
}

export class JobStorage extends Construct {
  readonly bucket: s3.Bucket;
  readonly table: dynamodb.Table;
  /** Every key the job writes starts with it (core/wire/storage-keys). */
  readonly objectPrefix: string;
  private readonly job: JobName;

  constructor(scope: Construct, id: string, props: JobStorageProps) {
    super(scope, id);
    this.job = props.graph.name;
    this.objectPrefix = blobKeys.jobPrefix(this.job);
    const sinks = props.graph.operators.filter((o) => o.spec.kind === 'sink').map((o) => o.name);
    const expiration = props.stagedSinkExpiration;
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: BUCKET_SPEC.versioned,
      removalPolicy: props.removalPolicy,
      ...(props.serverAccessLogsBucket ? { serverAccessLogsBucket: props.serverAccessLogsBucket, serverAccessLogsPrefix: `${this.job}/` } : {}),
      lifecycleRules: [
        { id: 'AbortIncompleteMultipartUploads', abortIncompleteMultipartUploadAfter: Duration.days(BUCKET_SPEC.abortIncompleteMultipartUploadAfterDays) },
        ...(expiration === undefined
          ? []
          : sinks.map((sink) => ({ id: `ExpireStagedParts-${sink}`, prefix: stagedPrefix(this.job, sink), expiration }))),
      ],
    });
    if (!props.serverAccessLogsBucket) acceptNoAccessLogs(this.bucket);
    this.table = new dynamodb.Table(this, 'Table', {
      // Named by the job, as the local runner names it (jobResources): the operations commands
      // find a job deployed anywhere by its table, and its bucket (which CloudFormation names,
      // being global) from the job item (core/manifest's `bucket`). One job name per account
      // and region, as a Flink job is one per cluster.
      tableName: jobResources(props.graph.name).table,
      partitionKey: keyAttribute(TABLE_SPEC.partitionKey),
      sortKey: keyAttribute(TABLE_SPEC.sortKey),
      billingMode: BILLING_MODES[TABLE_SPEC.billingMode],
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      deletionProtection: props.removalPolicy !== RemovalPolicy.DESTROY,
      removalPolicy: props.removalPolicy,
    });
  }

  /** Read and write the job's items and objects: what every role does (see TABLE_ACTIONS). */
  grantData(grantee: iam.IGrantable): void {
    this.table.grant(grantee, ...TABLE_ACTIONS);
    this.bucket.grants.actionsOnObjectKeys(grantee, `${this.objectPrefix}*`, ...OBJECT_ACTIONS);
    // Listing serves retention and restore; it also makes S3 answer 404 rather than 403 for
    // a missing key, which the adapter reads as "absent". The bucket holds only this job.
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
  }
}

const ATTRIBUTE_TYPES: Record<KeyAttribute['type'], dynamodb.AttributeType> = {
  S: dynamodb.AttributeType.STRING,
  N: dynamodb.AttributeType.NUMBER,
  B: dynamodb.AttributeType.BINARY,
};
const BILLING_MODES: Record<TableSpec['billingMode'], dynamodb.BillingMode> = { PAY_PER_REQUEST: dynamodb.BillingMode.PAY_PER_REQUEST };
const keyAttribute = (a: KeyAttribute): dynamodb.Attribute => ({ name: a.name, type: ATTRIBUTE_TYPES[a.type] });

/** `jobs/<job>/sinks/<sink>/staged/`, from the one key builder. */
export const stagedPrefix = (job: JobName, sink: string): string => blobKeys.stagedPrefix(job, sink);
