/**
 * Every cdk-nag (AwsSolutions) finding the construct accepts, each with its reason, in one
 * place for review. The construct acknowledges them itself through CDK's own validation
 * API (what cdk-nag 3 reads), so a user's app that runs cdk-nag over a TidemarkJob gets the
 * same, explained, result without depending on cdk-nag. Everything else nag reports is
 * fixed rather than acknowledged.
 */
import { Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import type { IRole } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

/** nodejs22.x on purpose, while aws-cdk-lib already knows a newer Node.js runtime. */
export function acceptRuntimeVersion(fn: IFunction): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'nodejs22.x is the runtime Tidemark is built and tested for (esbuild target node22, Node 20+ locally) and is in AWS standard support; moving to a newer runtime is a deliberate upgrade made together with the toolchain, not a side effect of a CDK update.',
  });
}

/**
 * The one wildcard resource left: S3 object ARNs can only be scoped by key prefix, and
 * this is the job's own prefix (jobs/<job>/*). Actions are listed one by one.
 */
export function acceptObjectKeyPrefix(role: IRole, bucket: IBucket, prefix: string): void {
  const stack = Stack.of(bucket);
  const logicalId = stack.resolve(stack.getLogicalId(bucket.node.defaultChild as CfnResource)) as string;
  // The finding names the resource as cdk-nag flattens it: <LogicalId.Arn>/<prefix>*.
  Validations.of(role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`,
    reason: `S3 object permissions can only be scoped by key prefix: GetObject, PutObject and DeleteObject are limited to the job's own prefix ${prefix}*, under which the runtime creates snapshots, spilled state and sink parts with keys known only at run time.`,
  });
}

/** Timer messages need no dead-letter queue. */
export function acceptTimerWithoutDeadLetters(queue: IConstruct): void {
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'Timer messages are disposable ticks, not data: a failed or lost one is replaced by the chain the EventBridge heartbeat restarts (DESIGN 5.7) and stale ones are dropped by token, so a dead-letter queue would only collect garbage.',
  });
}

/** Server access logs are opt-in (the serverAccessLogsBucket prop). */
export function acceptNoAccessLogs(bucket: IConstruct): void {
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      "Only the job's own functions can reach this bucket (public access blocked, TLS only, IAM grants scoped to the job prefix); access logs would need a second bucket per job. They are one prop away (serverAccessLogsBucket), and CloudTrail data events cover audit needs account-wide.",
  });
}
