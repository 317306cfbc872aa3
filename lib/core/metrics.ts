/**
 * Metrics the job's functions publish and the alarms watch. Failed checkpoints are manifest
 * items in DynamoDB, not a metric, so the coordinator reports each abort as a CloudWatch
 * Embedded Metric Format log line (no API call, no extra permission: Lambda's log
 * ingestion extracts it), for example:
 *
 *   {"_aws":{"Timestamp":1730000000000,"CloudWatchMetrics":[{"Namespace":"Tidemark",
 *     "Dimensions":[["Job"]],"Metrics":[{"Name":"FailedCheckpoints","Unit":"Count"}]}]},
 *    "Job":"wordcount","FailedCheckpoints":1,"checkpoint":42,"reason":"TIMEOUT"}
 */
import type { CheckpointFailureReason } from './manifest.js';

export const TIDEMARK_METRICS = {
  namespace: 'Tidemark',
  /** Dimension naming the job, so one account can hold several jobs. */
  jobDimension: 'Job',
  /** Count of checkpoints aborted (timeout, declined, failed ack), one datum per abort. */
  failedCheckpoints: 'FailedCheckpoints',
} as const;

/** One failed checkpoint as an Embedded Metric Format record (a JSON log line). */
export function failedCheckpointMetric(job: string, checkpoint: number, reason: CheckpointFailureReason, now: number) {
  return {
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: TIDEMARK_METRICS.namespace,
          Dimensions: [[TIDEMARK_METRICS.jobDimension]],
          Metrics: [{ Name: TIDEMARK_METRICS.failedCheckpoints, Unit: 'Count' }],
        },
      ],
    },
    [TIDEMARK_METRICS.jobDimension]: job,
    [TIDEMARK_METRICS.failedCheckpoints]: 1,
    checkpoint,
    reason,
  };
}
