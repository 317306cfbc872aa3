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
import { Construct } from 'constructs';
import { stageById, type StageTopology, type Topology } from '../lib/core/topology.js';
import { sinkStages, sourceStages } from '../lib/runtime/control-messages.js';
import { Coordinator } from './coordinator.js';
import { JobAlarms } from './job-alarms.js';
import { prepareJobBundle } from './job-bundle.js';
import { JobStorage } from './job-storage.js';
import { OperatorStage } from './operator-stage.js';
import type { TidemarkJobProps } from './props.js';
import { Recovery } from './recovery.js';
import { validateProps } from './validate-props.js';

export class TidemarkJob extends Construct {
  readonly topology: Topology;
  readonly storage: JobStorage;
  readonly stages: readonly OperatorStage[];
  readonly coordinator: Coordinator;
  readonly recovery: Recovery;
  readonly alarms: JobAlarms;

  constructor(scope: Construct, id: string, props: TidemarkJobProps) {
    super(scope, id);
    const p = validateProps(props);
    const { graph, topology } = p;
    const job = graph.name;
    this.topology = topology;
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

    this.stages = topology.stages.map(
      (stage) =>
        new OperatorStage(this, `Stage-${stage.id}`, {
          ...functions,
          job,
          stage,
          timeout: p.operatorTimeout,
          memorySize: p.operatorMemorySize,
          batchSize: p.batchSize,
          maxReceiveCount: p.maxReceiveCount,
          deadLetterConsumerTimeout: p.coordinatorTimeout,
        }),
    );
    this.grantStageSends();

    this.coordinator = new Coordinator(this, 'Coordinator', { ...control, graph, topology });
    // The coordinator's control messages (runtime/control-messages): triggers and, after a
    // restore, first polls to the sources; commits to the stages with a sink.
    for (const s of this.stagesOf([...sourceStages(topology), ...sinkStages(topology)])) {
      s.queue.grantSendMessages(this.coordinator.coordinator.role);
    }

    this.recovery = new Recovery(this, 'Recovery', {
      ...control,
      job,
      batchSize: p.batchSize,
      deadLetterQueues: this.stages.map((s) => s.deadLetterQueue),
    });

    this.alarms = new JobAlarms(this, 'Alarms', {
      job,
      stages: this.stages,
      oldestMessageAgeThreshold: p.oldestMessageAgeThreshold,
      alarmActions: p.alarmActions,
    });
    this.addOutputs();
  }

  /** An operator sends records and barriers downstream, and commits to every sink stage. */
  private grantStageSends(): void {
    const sinks = sinkStages(this.topology);
    for (const from of this.stages) {
      // Whichever subtask's ack completes a checkpoint notifies the sinks right away.
      const targets = this.stagesOf([...from.stage.outputs.map((e) => stageById(this.topology, e.stage)), ...sinks]);
      for (const to of targets) to.queue.grantSendMessages(from.operator.role);
    }
  }

  /** The constructs of the given stages, each once. */
  private stagesOf(stages: readonly StageTopology[]): OperatorStage[] {
    const ids = new Set(stages.map((s) => s.id));
    return this.stages.filter((s) => ids.has(s.stage.id));
  }

  private addOutputs(): void {
    const out = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    out('BucketName', this.storage.bucket.bucketName, `Tidemark ${this.topology.job}: snapshots, spilled state and sink output (jobs/${this.topology.job}/)`);
    out('TableName', this.storage.table.tableName, `Tidemark ${this.topology.job}: job item, checkpoint manifest, working state`);
    for (const s of this.stages) {
      out(`Queue-${s.stage.id}`, s.queue.queueName, `Tidemark ${this.topology.job}: queue of stage ${s.stage.id}`);
      out(`DeadLetterQueue-${s.stage.id}`, s.deadLetterQueue.queueName, `Tidemark ${this.topology.job}: dead-letter queue of stage ${s.stage.id}`);
    }
    const timer = this.coordinator.timerQueue;
    if (timer) out('TimerQueue', timer.queueName, `Tidemark ${this.topology.job}: the coordinator's timer queue`);
  }
}
