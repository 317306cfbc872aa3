/**
 * One stage of the topology (a chain of operators run by one task): its FIFO queue, whose
 * message groups are the stage's subtasks, a FIFO dead-letter queue, and the operator
 * function fed by the queue. Queue names are the topology's, because that is how the
 * runtime addresses a stage (GetQueueUrl by name).
 */
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../lib/adapters/aws/config.js';
import type { StageTopology } from '../lib/core/topology.js';
import { RoleFunction, visibilityTimeoutFor, type RoleFunctionProps } from './role-function.js';

/** SQS keeps a message at most this long: the most time to notice and fix a stopped stage. */
const MAX_RETENTION = Duration.days(14);
/** Lambda's bounds for an SQS event source's maximum concurrency. */
const EVENT_SOURCE_CONCURRENCY = { min: 2, max: 1000 };

export interface OperatorStageProps extends Omit<RoleFunctionProps, 'role' | 'description' | 'environment'> {
  readonly job: string;
  readonly stage: StageTopology;
  readonly batchSize: number;
  readonly maxReceiveCount: number;
  /** The recovery function's timeout: it consumes the dead-letter queue. */
  readonly deadLetterConsumerTimeout: Duration;
}

export class OperatorStage extends Construct {
  readonly stage: StageTopology;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly operator: RoleFunction;

  constructor(scope: Construct, id: string, props: OperatorStageProps) {
    super(scope, id);
    const { stage } = props;
    this.stage = stage;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      queueName: stage.deadLetterQueue,
      fifo: true,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: MAX_RETENTION,
      visibilityTimeout: visibilityTimeoutFor(props.deadLetterConsumerTimeout),
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      queueName: stage.queue,
      fifo: true,
      // Every message carries its own deduplication id (job, generation, channel, seq), and
      // ids differ between groups, so deduplicating per group is exact and lets SQS's
      // high-throughput FIFO mode scale with the number of subtasks.
      contentBasedDeduplication: false,
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: visibilityTimeoutFor(props.timeout),
      // An expired message is a lost one: the job would have to fail over.
      retentionPeriod: MAX_RETENTION,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });

    this.operator = new RoleFunction(this, 'Operator', {
      ...props,
      role: 'operator',
      description: `Tidemark ${props.job}: operator stage ${stage.id} (${stage.operators.map((o) => o.name).join(' > ')})`,
      environment: { [ENV.stage]: stage.id },
    });
    this.operator.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize,
        // The handler reports failed messages (and the rest of their group) individually.
        reportBatchItemFailures: true,
        // A FIFO queue never runs more batches at once than it has active groups, one per
        // subtask; the cap keeps a burst from taking more of the account's concurrency.
        maxConcurrency: Math.min(EVENT_SOURCE_CONCURRENCY.max, Math.max(EVENT_SOURCE_CONCURRENCY.min, stage.parallelism)),
      }),
    );
    // Malformed messages are dead-lettered by the handler itself, with their reason.
    this.deadLetterQueue.grantSendMessages(this.operator.role);
    // A source keeps itself going by sending its next poll into its own group.
    if (stage.isSource) this.queue.grantSendMessages(this.operator.role);
  }
}
