/**
 * The recovery / dead-letter function, fed by every stage's dead-letter queue: it counts
 * messages an operator dead-lettered as malformed, and asks for a failover when a valid
 * message of the current generation was lost (runtime/dead-letter-runtime).
 */
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RoleFunction, type RoleFunctionProps } from './role-function.js';

export interface RecoveryProps extends Omit<RoleFunctionProps, 'description'> {
  readonly job: string;
  readonly deadLetterQueues: readonly sqs.IQueue[];
  readonly batchSize: number;
}

export class Recovery extends Construct {
  readonly recovery: RoleFunction;

  constructor(scope: Construct, id: string, props: RecoveryProps) {
    super(scope, id);
    this.recovery = new RoleFunction(this, 'Recovery', {
      ...props,
      description: `Tidemark ${props.job}: dead-letter handling and failover requests`,
    });
    for (const queue of props.deadLetterQueues) {
      this.recovery.function.addEventSource(
        new SqsEventSource(queue, {
          batchSize: props.batchSize,
          // The handler fails the whole batch or nothing, and says so per message.
          reportBatchItemFailures: true,
          // Dead letters are rare and their handling is a few conditional writes.
          maxConcurrency: 2,
        }),
      );
    }
  }
}
