/**
 * Before `tidemark run` starts a job on an emulator, what is there already decides
 * (core/resubmit.ts): nothing, and the job is new; a job of that name, and the run is
 * refused unless `--fresh` asks to start over; then, for a job that has ended, this deletes
 * what it left and submits it anew over its job item.
 *
 * Starting over, in an order that a crash at any point leaves safe to do again: the job's
 * queues are purged (its DLQs and timer queue too); its snapshots, spilled state, staged and
 * committed sink output and dead letters are deleted from the bucket; its working state,
 * checkpoint items, DynamoDB sink rows and the logs this run loads again are deleted from
 * the table; last, the job item is replaced, conditional on it being the ended one read.
 * Until then the old job item stands (so a second `--fresh` does it all again). The inputs a
 * user put in the bucket or ingested into a log the run does not load are kept.
 */
import { BatchWriteItemCommand, ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetQueueUrlCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { createClients } from '../lib/adapters/aws/clients.js';
import { awsConfigFromEnv } from '../lib/adapters/aws/config.js';
import { awsPorts } from '../lib/adapters/aws/index.js';
import { attempt } from '../lib/adapters/aws/errors.js';
import { JobStateError } from '../lib/core/errors.js';
import type { JobGraph } from '../lib/core/graph.js';
import { isFinalStatus } from '../lib/core/job-status.js';
import { resubmitDecision } from '../lib/core/resubmit.js';
import type { Topology } from '../lib/core/topology.js';
import { blobKeys, tableKeys } from '../lib/core/wire/storage-keys.js';
import { updateJob } from '../lib/runtime/job-records.js';
import { patiently, type Patience } from './retry.js';
import type { LocalWorld } from './worlds.js';

export interface AdmitOptions {
  readonly jobFile: string;
  readonly fresh: boolean;
  /** Log sources whose input this run loads: their old entries go with a fresh start. */
  readonly reloadedLogs: readonly string[];
  readonly patience: Patience;
  readonly log: (line: string) => void;
}

/** Throws a JobStateError when the run must not go on; starts over when `--fresh` says so. */
export async function admitRun(world: LocalWorld, graph: JobGraph, topology: Topology, o: AdmitOptions): Promise<void> {
  const { ports } = world;
  const name = graph.name;
  const existing = await patiently(`reading the job item of ${name}`, () => ports.manifest.getJob(name), o.patience);
  const where = world.aws ? `AWS_ENDPOINT_URL=${world.aws.endpoint}` : world.kind;
  const decision = resubmitDecision(existing, { where, jobFile: o.jobFile, fresh: o.fresh, now: Date.now() });
  if (decision.kind === 'new') return;
  if (decision.kind === 'refuse') throw new JobStateError(decision.reason);
  o.log(`tidemark run --fresh: deleting what job ${name} (generation ${existing!.gen}, ${existing!.status}) left on ${where}`);
  if (world.aws) await wipeAws(graph, topology, o);
  const written = await patiently(`submitting job ${name} anew`, () =>
    updateJob(ports.manifest, name, (j) => (j.gen === existing!.gen && isFinalStatus(j.status) ? { ...decision.next, version: j.version, recentWrites: j.recentWrites ?? [] } : null)),
    o.patience,
  );
  if (!written) throw new JobStateError(`job ${name} changed on ${where} while it was being started over: run again to see what it is now`);
}

async function wipeAws(graph: JobGraph, topology: Topology, o: AdmitOptions): Promise<void> {
  const config = awsConfigFromEnv(topology);
  const clients = createClients(config, { sqs: {}, s3: {}, dynamodb: {}, kinesis: {} });
  const job = graph.name;
  try {
    const queues = [...topology.stages.flatMap((s) => [s.queue, s.deadLetterQueue]), topology.resources.timerQueue];
    for (const q of queues) {
      await patiently(`purging queue ${q}`, async () => {
        const url = await attempt('sqs', `GetQueueUrl ${q}`, async () => (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: q }))).QueueUrl!);
        await attempt('sqs', `PurgeQueue ${q}`, () => clients.sqs.send(new PurgeQueueCommand({ QueueUrl: url })));
      }, o.patience);
    }
    const blobs = awsPorts(config).blobs;
    const s3Sinks = graph.operators.flatMap((op) => (op.spec.kind === 'sink' && op.spec.sink.kind === 's3' ? [blobKeys.jobObject(job as never, op.spec.sink.prefix)] : []));
    const prefixes = ['checkpoints/', 'state/', 'sinks/', 'dead-letters/'].map((p) => blobKeys.jobObject(job as never, p));
    for (const prefix of [...prefixes, ...s3Sinks]) {
      const keys = await patiently(`listing ${prefix}`, () => blobs.list(prefix), o.patience);
      if (keys.length > 0) await patiently(`deleting ${prefix}`, () => blobs.delete(keys), o.patience);
    }
    const jobPk = tableKeys.jobPk(job as never);
    const doomed = (pk: string, sk: string) =>
      (pk === jobPk && sk !== tableKeys.jobSk) ||
      pk.startsWith(tableKeys.statePkPrefix(job as never)) ||
      pk.startsWith(tableKeys.outputPkPrefix(job as never)) ||
      o.reloadedLogs.some((log) => pk.startsWith(tableKeys.logPkPrefix(job as never, log)));
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await patiently(`scanning table ${config.table}`, () =>
        attempt('dynamodb', `Scan ${config.table}`, () => clients.dynamodb.send(new ScanCommand({ TableName: config.table, ProjectionExpression: 'pk, sk', ExclusiveStartKey: start }))),
        o.patience,
      );
      const keys = (page.Items ?? []).filter((i) => doomed(i.pk?.S ?? '', i.sk?.S ?? '')).map((i) => ({ pk: i.pk!, sk: i.sk! }));
      for (let n = 0; n < keys.length; n += 25) await deleteItems(clients.dynamodb, config.table, keys.slice(n, n + 25), o.patience);
      start = page.LastEvaluatedKey;
    } while (start);
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
}

/** One BatchWriteItem of deletes; what DynamoDB leaves unprocessed is sent again. */
async function deleteItems(dynamodb: ReturnType<typeof createClients>['dynamodb'], table: string, keys: Record<string, AttributeValue>[], patience: Patience): Promise<void> {
  let requests = keys.map((Key) => ({ DeleteRequest: { Key } }));
  for (let round = 0; requests.length > 0; round++) {
    if (round > 20) throw new JobStateError(`table ${table}: ${requests.length} items could not be deleted`);
    const out = await patiently(`deleting items of ${table}`, () =>
      attempt('dynamodb', `BatchWriteItem ${table}`, () => dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [table]: requests } }))),
      patience,
    );
    requests = (out.UnprocessedItems?.[table] ?? []).map((r) => ({ DeleteRequest: { Key: r.DeleteRequest!.Key! } }));
  }
}
