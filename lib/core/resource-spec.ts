/**
 * One resource spec (DESIGN §2): every setting of a job's queues, table and bucket, and what
 * each role's function is told and sends to (core/function-spec), as plain data computed
 * from the topology. infra/ maps it onto CDK props (AWS), local/provision.ts onto SDK calls
 * (an emulator); neither writes a resource setting of its own. What legitimately differs
 * between the two is a ResourceProfile; both profiles are built here side by side, each
 * difference with its reason. Names are the topology's. AWS-only hardening that no handler
 * can observe (encryption, TLS, point-in-time recovery, removal policies) stays with the
 * CDK mapping.
 */
import { coordinatorFunction, operatorFunction, recoveryFunction, type FunctionSpec } from './function-spec.js';
import type { JobName } from './ids.js';
import type { StageTopology, Topology } from './topology.js';

/** SQS's longest retention (14 days): the most time to notice and fix a stopped stage. */
export const MAX_RETENTION_SECONDS = 14 * 24 * 60 * 60;

/** An SQS queue. An unset setting is left at SQS's default (retention 4 days, visibility 30 s). */
export interface QueueSpec {
  readonly name: string;
  readonly fifo: boolean;
  /** FIFO only. */
  readonly contentBasedDeduplication?: boolean;
  /** FIFO only: deduplicate and limit throughput per message group (high-throughput FIFO). */
  readonly perMessageGroup?: boolean;
  readonly retentionSeconds?: number;
  readonly visibilityTimeoutSeconds?: number;
  /** Where SQS moves a message after `maxReceiveCount` receives. */
  readonly redrive?: { readonly deadLetterQueue: string; readonly maxReceiveCount: number };
}

/** The settings in which AWS (infra/) and an emulator (local/provision.ts) differ. */
export interface ResourceProfile {
  readonly stageVisibilityTimeoutSeconds: number;
  /** Unset: SQS's default. */
  readonly deadLetterVisibilityTimeoutSeconds?: number;
  readonly timerVisibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  /** Of the stage queues; unset: SQS's default. */
  readonly stageRetentionSeconds?: number;
  /** Of the timer queue; unset: SQS's default. */
  readonly timerRetentionSeconds?: number;
  /** High-throughput FIFO on the stage queues. */
  readonly perMessageGroup: boolean;
}

/** Timeouts (seconds) of the functions that consume each kind of queue, and the redrive count. */
export interface AwsProfileOptions {
  readonly operatorTimeoutSeconds: number;
  readonly recoveryTimeoutSeconds: number;
  readonly coordinatorTimeoutSeconds: number;
  readonly maxReceiveCount: number;
}

/** What the CDK construct deploys (TidemarkJob props decide the numbers). */
export function awsProfile(o: AwsProfileOptions): ResourceProfile {
  // Six times the consuming function's timeout, AWS's advice for a Lambda event source: a
  // batch is not redelivered while an invocation (and its throttled retries) may still run.
  const visibility = (functionTimeoutSeconds: number) => 6 * functionTimeoutSeconds;
  return {
    stageVisibilityTimeoutSeconds: visibility(o.operatorTimeoutSeconds),
    deadLetterVisibilityTimeoutSeconds: visibility(o.recoveryTimeoutSeconds),
    timerVisibilityTimeoutSeconds: visibility(o.coordinatorTimeoutSeconds),
    maxReceiveCount: o.maxReceiveCount,
    // An expired stage message is a lost one: the job would have to fail over.
    stageRetentionSeconds: MAX_RETENTION_SECONDS,
    // A timer message is stale within three periods (at most three minutes), when the
    // heartbeat starts a new chain; an hour bounds what a broken chain leaves behind.
    timerRetentionSeconds: 60 * 60,
    // Dedup ids differ between groups, so per-group dedup is exact, and SQS's throughput
    // then scales with the number of subtasks.
    perMessageGroup: true,
  };
}

export interface EmulatorProfileOptions {
  /** Of the stage and timer queues: short, see emulatorProfile. */
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
}

/**
 * What `tidemark run` provisions with. Ten receives, not AWS's five: a killed invocation
 * counts as a receive, and local runs kill invocations on purpose (--kill-rate).
 */
export const LOCAL_RUN_PROFILE: EmulatorProfileOptions = { visibilityTimeoutSeconds: 1, maxReceiveCount: 10 };

/**
 * What local/provision.ts creates on an emulator. The visibility timeout is short because
 * the local host extends it while an invocation runs (a killed invocation's batch comes back
 * after one short timeout); it reads the dead-letter queues with its own timeout, so theirs
 * stays SQS's default. Retention stays SQS's default (4 days): a local run ends long before.
 * An emulator has no throughput limit to lift, so no high-throughput FIFO.
 */
export function emulatorProfile(o: EmulatorProfileOptions): ResourceProfile {
  return {
    stageVisibilityTimeoutSeconds: o.visibilityTimeoutSeconds,
    timerVisibilityTimeoutSeconds: o.visibilityTimeoutSeconds,
    maxReceiveCount: o.maxReceiveCount,
    perMessageGroup: false,
  };
}

export interface StageQueuesSpec {
  readonly queue: QueueSpec;
  readonly deadLetterQueue: QueueSpec;
}

/** A stage's FIFO queue (message groups are its subtasks) and its FIFO dead-letter queue. */
export function stageQueues(stage: Pick<StageTopology, 'queue' | 'deadLetterQueue'>, p: ResourceProfile): StageQueuesSpec {
  return {
    deadLetterQueue: {
      name: stage.deadLetterQueue,
      // Deduplication by content stays off, SQS's default: redrive keeps a message's id, and
      // the operator dead-letters a malformed one with an id of its own.
      fifo: true,
      // Kept as long as SQS allows, for inspection and redrive.
      retentionSeconds: MAX_RETENTION_SECONDS,
      visibilityTimeoutSeconds: p.deadLetterVisibilityTimeoutSeconds,
    },
    queue: {
      name: stage.queue,
      fifo: true,
      // Every message carries its own deduplication id (job, generation, channel, seq).
      contentBasedDeduplication: false,
      perMessageGroup: p.perMessageGroup,
      retentionSeconds: p.stageRetentionSeconds,
      visibilityTimeoutSeconds: p.stageVisibilityTimeoutSeconds,
      redrive: { deadLetterQueue: stage.deadLetterQueue, maxReceiveCount: p.maxReceiveCount },
    },
  };
}

/** The coordinator's timer: a standard queue, for its per-message delays (core/coordinator-timer). */
export function timerQueue(topology: Pick<Topology, 'resources'>, p: ResourceProfile): QueueSpec {
  return {
    name: topology.resources.timerQueue,
    fifo: false,
    visibilityTimeoutSeconds: p.timerVisibilityTimeoutSeconds,
    retentionSeconds: p.timerRetentionSeconds,
  };
}

export interface KeyAttribute {
  readonly name: string;
  /** DynamoDB's attribute type: S(tring), N(umber), B(inary). */
  readonly type: 'S' | 'N' | 'B';
}

export interface TableSpec {
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly billingMode: 'PAY_PER_REQUEST';
}

/** The job's table, as the DynamoDB adapters write it (core/wire/storage-keys builds the values). */
export const TABLE_SPEC: TableSpec = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  // A job's traffic follows its input and its checkpoint interval: nothing to provision.
  billingMode: 'PAY_PER_REQUEST',
};

export interface BucketSpec {
  readonly versioned: boolean;
  readonly abortIncompleteMultipartUploadAfterDays: number;
}

/**
 * The job's bucket. On an emulator CreateBucket makes it unversioned and without lifecycle
 * rules: the abort rule only keeps S3 from billing abandoned uploads forever.
 */
export const BUCKET_SPEC: BucketSpec = {
  // Keys are written once (put-if-absent) and checkpoint retention must really free the
  // space it deletes.
  versioned: false,
  // The adapters upload in single requests; this only catches what a crashed client or
  // another tool leaves half-done.
  abortIncompleteMultipartUploadAfterDays: 1,
};

export interface StageResources extends StageQueuesSpec {
  readonly stage: StageTopology;
  readonly operator: FunctionSpec;
}

export interface ResourceSpec {
  readonly job: JobName;
  readonly stages: readonly StageResources[];
  readonly timerQueue: QueueSpec;
  readonly coordinator: FunctionSpec;
  readonly recovery: FunctionSpec;
}

/** The whole job: what infra/ deploys. Table and bucket: TABLE_SPEC, BUCKET_SPEC. */
export function resourceSpec(topology: Topology, p: ResourceProfile): ResourceSpec {
  return {
    job: topology.job,
    stages: topology.stages.map((stage) => ({ stage, ...stageQueues(stage, p), operator: operatorFunction(topology, stage) })),
    timerQueue: timerQueue(topology, p),
    coordinator: coordinatorFunction(topology),
    recovery: recoveryFunction(),
  };
}
