/**
 * The job's alarms: a dead-letter queue holding messages (something was lost or malformed,
 * and a failover may follow), a stage queue whose oldest message keeps ageing (a stage that
 * stopped: a group blocked by a failing message, throttling, a broken function), and failed
 * checkpoints (from the coordinator's metric, see metrics.ts).
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { TIDEMARK_METRICS } from '../lib/core/metrics.js';
import type { OperatorStage } from './operator-stage.js';

export interface JobAlarmsProps {
  readonly job: string;
  readonly stages: readonly OperatorStage[];
  readonly oldestMessageAgeThreshold: Duration;
  readonly alarmActions: readonly cloudwatch.IAlarmAction[];
}

/** SQS publishes its queue metrics once a minute. */
const SQS_PERIOD = Duration.minutes(1);

export class JobAlarms extends Construct {
  /** Per stage: messages visible in its dead-letter queue, then messages in flight there. */
  readonly deadLetterDepth: readonly cloudwatch.Alarm[];
  readonly oldestMessageAge: readonly cloudwatch.Alarm[];
  readonly failedCheckpoints: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: JobAlarmsProps) {
    super(scope, id);
    const { job } = props;
    // Two plain alarms per dead-letter queue, visible and in flight, not one on the metric
    // math `visible + inFlight`: the recovery function drains the queue within seconds, so
    // visible alone would miss a message that is being handled (or failing) right now, and
    // MiniStack (the embedded emulator) rejects metric-math alarms, while the stack must
    // deploy unchanged to AWS and to it.
    this.deadLetterDepth = props.stages.flatMap((s) =>
      (
        [
          ['DeadLetters', 'waiting in', s.deadLetterQueue.metricApproximateNumberOfMessagesVisible.bind(s.deadLetterQueue)],
          ['DeadLettersInFlight', 'being handled from', s.deadLetterQueue.metricApproximateNumberOfMessagesNotVisible.bind(s.deadLetterQueue)],
        ] as const
      ).map(([id, where, metric]) =>
        metric({ statistic: 'Maximum', period: SQS_PERIOD }).createAlarm(this, `${id}-${s.stage.id}`, {
          alarmDescription: `Tidemark ${job}: messages ${where} ${s.stage.deadLetterQueue}. A valid message there was lost to its channel and fails the job over; the recovery function counts malformed ones on the job item.`,
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      ),
    );

    this.oldestMessageAge = props.stages.map((s) =>
      s.queue
        .metricApproximateAgeOfOldestMessage({ statistic: 'Maximum', period: SQS_PERIOD })
        .createAlarm(this, `OldestMessage-${s.stage.id}`, {
          alarmDescription: `Tidemark ${job}: the oldest message in ${s.stage.queue} is older than ${props.oldestMessageAgeThreshold.toHumanString()}; stage ${s.stage.id} is not making progress.`,
          threshold: props.oldestMessageAgeThreshold.toSeconds(),
          // Three minutes in a row: one slow batch or a long checkpoint alignment is not a stall.
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
    );

    this.failedCheckpoints = new cloudwatch.Metric({
      namespace: TIDEMARK_METRICS.namespace,
      metricName: TIDEMARK_METRICS.failedCheckpoints,
      dimensionsMap: { [TIDEMARK_METRICS.jobDimension]: job },
      statistic: 'Sum',
      period: Duration.minutes(5),
    }).createAlarm(this, 'FailedCheckpoints', {
      alarmDescription: `Tidemark ${job}: checkpoints failed (timeout or abort). Beyond tolerableFailedCheckpoints in a row the job fails over.`,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // No datum means no checkpoint failed.
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    for (const alarm of [...this.deadLetterDepth, ...this.oldestMessageAge, this.failedCheckpoints]) {
      alarm.addAlarmAction(...props.alarmActions);
    }
  }
}
