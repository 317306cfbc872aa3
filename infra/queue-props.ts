/**
 * A queue of the resource spec (core/resource-spec) as CDK props: the spec decides every
 * setting; what is added here is what AWS gives every queue of the job and no handler can
 * observe, SQS-managed encryption and a queue policy denying requests without TLS.
 */
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { QueueSpec } from '../lib/core/resource-spec.js';

/** @param deadLetterQueue the construct of `spec.redrive.deadLetterQueue`, when it has one */
export function queueProps(spec: QueueSpec, deadLetterQueue?: sqs.IQueue): sqs.QueueProps {
  if (spec.redrive && !deadLetterQueue) throw new Error(`queue ${spec.name}: its dead-letter queue ${spec.redrive.deadLetterQueue} is not given`);
  return {
    queueName: spec.name,
    ...(spec.fifo ? { fifo: true, contentBasedDeduplication: spec.contentBasedDeduplication } : {}),
    ...(spec.perMessageGroup
      ? { deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP, fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID }
      : {}),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    visibilityTimeout: seconds(spec.visibilityTimeoutSeconds),
    retentionPeriod: seconds(spec.retentionSeconds),
    ...(spec.redrive && deadLetterQueue ? { deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: spec.redrive.maxReceiveCount } } : {}),
  };
}

const seconds = (s: number | undefined) => (s === undefined ? undefined : Duration.seconds(s));
