/**
 * One stage of the topology (a chain of operators run by one task): its FIFO queue, whose
 * message groups are the stage's subtasks, a FIFO dead-letter queue, and the operator
 * function fed by the queue. Queue names are the topology's, because that is how the
 * runtime addresses a stage (GetQueueUrl by name).
 */
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageResources } from '../lib/core/resource-spec.js';
import type { StageTopology } from '../lib/core/topology.js';
import { queueProps } from './queue-props.js';
import { RoleFunction, type RoleFunctionProps } from './role-function.js';

/** Lambda's bounds for an SQS event source's maximum concurrency. */
const EVENT_SOURCE_CONCURRENCY = { min: 2, max: 1000 };

export interface OperatorStageProps extends Omit<RoleFunctionProps, 'spec' | 'description'> {
  readonly job: string;
  /** The stage's queues and function, from the job's resource spec. */
  readonly resources: StageResources;
  readonly batchSize: number;
}

export class OperatorStage extends Construct {
  readonly stage: StageTopology;
  readonly resources: StageResources;
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly operator: RoleFunction;

  constructor(scope: Construct, id: string, props: OperatorStageProps) {
    super(scope, id);
    const { stage } = props.resources;
    this.stage = stage;
    this.resources = props.resources;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', queueProps(props.resources.deadLetterQueue));
    this.queue = new sqs.Queue(this, 'Queue', queueProps(props.resources.queue, this.deadLetterQueue));

    this.operator = new RoleFunction(this, 'Operator', {
      ...props,
      spec: props.resources.operator,
      description: `Tidemark ${props.job}: operator stage ${stage.id} (${stage.operators.map((o) => o.name).join(' > ')})`,
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
  }
}
