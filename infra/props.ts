/**
 * The TidemarkJob construct's props. Everything about the pipeline itself (operators,
 * parallelism, checkpoint interval) comes from the job; these props only size and wire the
 * AWS resources around it.
 */
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { Architecture } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { JobBuilder } from '../lib/api/job.js';
import type { JobGraph } from '../lib/core/graph.js';

export interface TidemarkJobProps {
  /**
   * The job, as `job(...)` returns it or its `build()`. Its topology decides the stages,
   * their queues and parallelism, and the checkpoint schedule.
   */
  readonly job: JobBuilder | JobGraph;

  /**
   * Path (absolute, or relative to the working directory) of the module whose default
   * export is `job`. It is bundled into every function, so the handlers run the very code
   * the topology was compiled from.
   */
  readonly jobModule: string;

  /**
   * Files or directories, relative to the job module's directory, copied beside the
   * bundle so the job reads them in Lambda as it does locally, with
   * `new URL('./data/file.txt', import.meta.url)`.
   *
   * @default - the files the job module itself opens with a literal
   * `new URL('./…', import.meta.url)`
   */
  readonly jobAssets?: readonly string[];

  /**
   * Timeout of each operator function. Every stage queue's visibility timeout is six times
   * this, as AWS recommends for SQS event sources, so a batch is not redelivered while an
   * invocation (and its retries of throttled calls) may still be working on it.
   *
   * @default Duration.minutes(1)
   */
  readonly operatorTimeout?: Duration;

  /** Memory of each operator function, in MiB. @default 1024 */
  readonly operatorMemorySize?: number;

  /** Messages per operator invocation; SQS FIFO event sources allow at most 10. @default 10 */
  readonly batchSize?: number;

  /** Receives of one message before SQS moves it to its stage's dead-letter queue. @default 5 */
  readonly maxReceiveCount?: number;

  /**
   * Timeout of the coordinator and the recovery function; both may run a whole restore.
   *
   * @default Duration.minutes(5)
   */
  readonly coordinatorTimeout?: Duration;

  /** Memory of the coordinator and the recovery function, in MiB. @default 512 */
  readonly coordinatorMemorySize?: number;

  /** Instruction set of every function. @default Architecture.ARM_64 (cheaper per GB-second) */
  readonly architecture?: Architecture;

  /**
   * Expire staged sink parts this long after they were written. Off by default: a commit
   * marker names the staged parts of its transaction, so today they are the committed
   * output, not scratch files. Set it only for sinks whose output is read (or copied
   * elsewhere) within this time. Whole days (an S3 lifecycle limit).
   *
   * @default - staged parts are kept
   */
  readonly stagedSinkExpiration?: Duration;

  /** Retention of the functions' log groups. @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;

  /** Where S3 server access logs of the job's bucket go. @default - no server access logs */
  readonly serverAccessLogsBucket?: IBucket;

  /**
   * The per-queue alarm fires when a stage queue's oldest message is older than this: a
   * stage that has stopped (a message group blocked by a failing message, throttling).
   *
   * @default Duration.minutes(15)
   */
  readonly oldestMessageAgeThreshold?: Duration;

  /** Actions of every alarm (an SNS topic, say). @default - alarms without actions */
  readonly alarmActions?: readonly IAlarmAction[];

  /**
   * What happens to the bucket, the table and the log groups when they leave the stack.
   * They hold checkpoints, sink output and history, so they outlive a `cdk destroy` unless
   * asked (DESTROY fails on a bucket that still holds objects: empty it first).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Chaos testing of the deployed job: this fraction (0 up to 1) of operator invocations ends
   * its process at a random step of the checkpoint protocol, as a crash would, and SQS
   * redelivers its batch after the queue's visibility timeout (six times `operatorTimeout`:
   * pair it with a short one). What `tidemark deploy --local --kill-rate P` deploys with; a
   * stack without it has no such setting anywhere.
   *
   * @default - no fault injection
   */
  readonly faultInjection?: FaultInjection;

  /**
   * The Kinesis data streams the job's `kinesisSource`s read, such as
   * `Stream.fromStreamArn(this, 'Orders', arn)`: each source's stream must be one of them (by
   * name), and only the stage running that source gets read access to it.
   *
   * @default - none (a job with a Kinesis source then fails the synth, naming the source)
   */
  readonly kinesisStreams?: readonly IStream[];
}

/** Faults the deployed functions inject into themselves (see `faultInjection`). */
export interface FaultInjection {
  /** Fraction of operator invocations that die, from 0 up to (not including) 1. */
  readonly killRate: number;
}
