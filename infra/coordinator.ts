/**
 * The checkpoint coordinator: a function ticked by an EventBridge schedule (the heartbeat)
 * and, when the job needs ticks more often than once a minute, by its own timer queue, a
 * standard queue of delayed messages (DESIGN §5.7, core/coordinator-timer).
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HEARTBEAT_MS, timerPeriodMs } from '../lib/core/coordinator-timer.js';
import type { JobGraph } from '../lib/core/graph.js';
import type { QueueSpec } from '../lib/core/resource-spec.js';
import { acceptTimerWithoutDeadLetters } from './nag-suppressions.js';
import { queueProps } from './queue-props.js';
import { RoleFunction, type RoleFunctionProps } from './role-function.js';

/**
 * The heartbeat's rate. The coordinator ticks at the job's timer period, never less often
 * than once a minute (checkpoint timeouts, restart delays and commit resends run on
 * ticks); EventBridge cannot go below a minute, so faster ticks come from the timer.
 */
export function heartbeatRate(graph: JobGraph): Duration {
  const ms = Math.max(HEARTBEAT_MS, timerPeriodMs(graph.checkpoints.interval));
  return Duration.minutes(Math.ceil(ms / 60_000));
}

/** Whether the job ticks faster than the heartbeat, and so needs the timer queue. */
export const needsTimer = (graph: JobGraph) => timerPeriodMs(graph.checkpoints.interval) < HEARTBEAT_MS;

export interface CoordinatorProps extends Omit<RoleFunctionProps, 'description'> {
  readonly graph: JobGraph;
  /** From the job's resource spec; created only when the job needs the timer. */
  readonly timerQueue: QueueSpec;
}

export class Coordinator extends Construct {
  readonly coordinator: RoleFunction;
  readonly heartbeat: events.Rule;
  /** Absent when the job ticks once a minute or less often. */
  readonly timerQueue?: sqs.Queue;

  constructor(scope: Construct, id: string, props: CoordinatorProps) {
    super(scope, id);
    const job = props.graph.name;
    this.coordinator = new RoleFunction(this, 'Coordinator', {
      ...props,
      description: `Tidemark ${job}: checkpoint coordinator`,
    });
    // A failed tick is not worth retrying: the next heartbeat does the same work.
    this.coordinator.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    this.heartbeat = new events.Rule(this, 'Heartbeat', {
      description: `Tidemark ${job}: coordinator heartbeat`,
      schedule: events.Schedule.rate(heartbeatRate(props.graph)),
      targets: [new targets.LambdaFunction(this.coordinator.function, { retryAttempts: 0, maxEventAge: Duration.minutes(1) })],
    });
    if (!needsTimer(props.graph)) return;

    this.timerQueue = new sqs.Queue(this, 'TimerQueue', queueProps(props.timerQueue));
    acceptTimerWithoutDeadLetters(this.timerQueue);
    this.timerQueue.grantSendMessages(this.coordinator.role);
    // One message per invocation: each is one tick, and a failed tick must not make SQS
    // redeliver the other (unrelated) timer messages with it.
    this.coordinator.function.addEventSource(new SqsEventSource(this.timerQueue, { batchSize: 1, maxConcurrency: 2 }));
  }
}
