/**
 * TidemarkJob: everything one job needs on AWS, built from the same topology the local host
 * runs (core/topology), one construct per role:
 *
 *   Storage       S3 bucket + DynamoDB table
 *   Stage-<id>    per stage: FIFO queue, FIFO dead-letter queue, operator function
 *   Coordinator   coordinator function, EventBridge heartbeat, timer queue (sub-minute ticks)
 *   Recovery      dead-letter function on every stage's dead-letter queue
 *   Alarms        dead letters, stalled queues, failed checkpoints
 *
 * Usable from any CDK app:
 *
 *   import wordcount from './wordcount.js';
 *   new TidemarkJob(stack, 'WordCount', { job: wordcount, jobModule: 'src/wordcount.ts' });
 */
import { CfnOutput } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV } from '../lib/adapters/aws/config.js';
import type { FunctionSpec } from '../lib/core/function-spec.js';
import { awsProfile, resourceSpec, type ResourceSpec } from '../lib/core/resource-spec.js';
import type { Topology } from '../lib/core/topology.js';
import { Coordinator } from './coordinator.js';
import { JobAlarms } from './job-alarms.js';
import { prepareJobBundle } from './job-bundle.js';
import { JobStorage } from './job-storage.js';
import { checkKinesisStreams, grantKinesisReads } from './kinesis-reads.js';
import { OperatorStage } from './operator-stage.js';
import type { TidemarkJobProps } from './props.js';
import { Recovery } from './recovery.js';
import { validateProps } from './validate-props.js';

export class TidemarkJob extends Construct {
  readonly topology: Topology;
  /** Every queue, table and bucket setting, and what each function sends to. */
  readonly spec: ResourceSpec;
  readonly storage: JobStorage;
  readonly stages: readonly OperatorStage[];
  readonly coordinator: Coordinator;
  readonly recovery: Recovery;
  readonly alarms: JobAlarms;

  constructor(scope: Construct, id: string, props: TidemarkJobProps) {
    super(scope, id);
    const p = validateProps(props);
    const { graph, topology } = p;
    checkKinesisStreams(graph, p.kinesisStreams);
    const job = graph.name;
    this.topology = topology;
    this.spec = resourceSpec(
      topology,
      awsProfile({
        operatorTimeoutSeconds: p.operatorTimeout.toSeconds(),
        // The recovery function consumes the dead-letter queues; it shares the coordinator's timeout.
        recoveryTimeoutSeconds: p.coordinatorTimeout.toSeconds(),
        coordinatorTimeoutSeconds: p.coordinatorTimeout.toSeconds(),
        maxReceiveCount: p.maxReceiveCount,
      }),
    );
    const bundle = prepareJobBundle(job, p.jobModule, p.jobAssets);
    this.storage = new JobStorage(this, 'Storage', {
      graph,
      removalPolicy: p.removalPolicy,
      ...(p.stagedSinkExpiration ? { stagedSinkExpiration: p.stagedSinkExpiration } : {}),
      ...(p.serverAccessLogsBucket ? { serverAccessLogsBucket: p.serverAccessLogsBucket } : {}),
    });
    const functions = {
      bundle,
      storage: this.storage,
      architecture: p.architecture,
      logRetention: p.logRetention,
      removalPolicy: p.removalPolicy,
    };
    const control = { ...functions, timeout: p.coordinatorTimeout, memorySize: p.coordinatorMemorySize };

    this.stages = this.spec.stages.map(
      (resources) =>
        new OperatorStage(this, `Stage-${resources.stage.id}`, {
          ...functions,
          job,
          resources,
          timeout: p.operatorTimeout,
          memorySize: p.operatorMemorySize,
          batchSize: p.batchSize,
          ...(p.killRate === undefined ? {} : { environment: { [ENV.killRate]: String(p.killRate) } }),
        }),
    );
    this.coordinator = new Coordinator(this, 'Coordinator', { ...control, spec: this.spec.coordinator, graph, timerQueue: this.spec.timerQueue });
    this.recovery = new Recovery(this, 'Recovery', {
      ...control,
      spec: this.spec.recovery,
      job,
      batchSize: p.batchSize,
      deadLetterQueues: this.stages.map((s) => s.deadLetterQueue),
    });
    this.grantSends([
      ...this.stages.map((s) => [s.operator.role, s.resources.operator] as const),
      [this.coordinator.coordinator.role, this.spec.coordinator] as const,
      [this.recovery.recovery.role, this.spec.recovery] as const,
    ]);
    grantKinesisReads(this.stages, p.kinesisStreams);

    this.alarms = new JobAlarms(this, 'Alarms', {
      job,
      stages: this.stages,
      oldestMessageAgeThreshold: p.oldestMessageAgeThreshold,
      alarmActions: p.alarmActions,
    });
    this.addOutputs();
  }

  /** Each function may send to the stage queues its spec names, and to no other. */
  private grantSends(functions: readonly (readonly [iam.IGrantable, FunctionSpec])[]): void {
    const queues = new Map(this.stages.flatMap((s) => [[s.resources.queue.name, s.queue], [s.resources.deadLetterQueue.name, s.deadLetterQueue]] as const));
    for (const [grantee, spec] of functions) {
      for (const name of spec.sendsTo) {
        const queue = queues.get(name);
        if (!queue) throw new Error(`${spec.role} function: no stage queue ${name} to grant sends to`);
        queue.grantSendMessages(grantee);
      }
    }
  }

  private addOutputs(): void {
    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('BucketName', this.storage.bucket.bucketName, `Tidemark ${this.topology.job}: snapshots, spilled state and sink output (${this.storage.objectPrefix})`);
    out('TableName', this.storage.table.tableName, `Tidemark ${this.topology.job}: job item, checkpoint manifest, working state`);
    for (const s of this.stages) {
      out(`Queue-${s.stage.id}`, s.queue.queueName, `Tidemark ${this.topology.job}: queue of stage ${s.stage.id}`);
      out(`DeadLetterQueue-${s.stage.id}`, s.deadLetterQueue.queueName, `Tidemark ${this.topology.job}: dead-letter queue of stage ${s.stage.id}`);
    }
    // Invoking it with a scheduled event ticks now, without waiting for the next heartbeat.
    out('CoordinatorFunctionName', this.coordinator.coordinator.function.functionName, `Tidemark ${this.topology.job}: the checkpoint coordinator (invoke it to tick now)`);
    const timer = this.coordinator.timerQueue;
    if (timer) out('TimerQueue', timer.queueName, `Tidemark ${this.topology.job}: the coordinator's timer queue`);
  }
}
