/**
 * End-to-end benchmark on the emulator (`npm run bench:local`): the same 3-stage keyed
 * pipeline as the engine benchmark, run by the local Lambda host against SQS/S3/DynamoDB on
 * the emulator (MiniStack started by the project, or AWS_ENDPOINT_URL). Three runs in one
 * process: checkpoints off, checkpoints every second, and a run with a forced failure
 * (recovery time = restore requested → first record reaching the sink in the new
 * generation). Request counts come from the AWS adapters' counters. A fourth measurement
 * runs the seven-stage job (bench/seven-stages.ts: windows, four sinks, 30k lines) as
 * `tidemark run` does, at the examples' checkpoint settings: its run time and how many
 * checkpoints expired. Last line: one JSON object.
 *
 *   BENCH_LOCAL_RECORDS  records of the 3-stage runs (default 1,000,000)
 *   BENCH_LOCAL_ONLY     comma-separated parts to run: three-stages, seven-stages (default both)
 */
import type { JobGraph } from '../lib/core/graph.js';
import { blobKeys } from '../lib/core/wire/storage-keys.js';
import { compileTopology } from '../lib/core/topology.js';
import type { AwsPorts } from '../lib/adapters/aws/index.js';
import { awsConfigFromEnv } from '../lib/adapters/aws/config.js';
import { awsPorts } from '../lib/adapters/aws/index.js';
import { queueDepthFlow } from '../lib/runtime/flow-control.js';
import { readCommitted } from '../lib/runtime/sink-reader.js';
import { emulatorEnv, startEmulator } from '../local/emulator.js';
import { LocalLambdaHost } from '../local/lambda-host.js';
import { provisionJob } from '../local/provision.js';
import { benchPipeline } from './pipeline.js';
import { runSevenStages } from './seven-stages-run.js';

const RECORDS = Number(process.env.BENCH_LOCAL_RECORDS ?? 1_000_000);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const USERS = 500;
const PARTS = ['three-stages', 'seven-stages'];
const ONLY = (process.env.BENCH_LOCAL_ONLY ?? PARTS.join(',')).split(',').map((p) => p.trim());
for (const p of ONLY) if (!PARTS.includes(p)) throw new Error(`BENCH_LOCAL_ONLY: unknown part ${JSON.stringify(p)}; known: ${PARTS.join(', ')}`);

const pipeline = (name: string, interval: number | null): JobGraph => benchPipeline({ name, records: RECORDS, batchSize: 10_000, users: USERS, interval });

const total = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const percentile = (xs: number[], p: number) => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

interface RunResult {
  seconds: number;
  checkpointMs: number[];
  recoveryMs: number | null;
  sqs: number;
  sqsByOperation: Record<string, number>;
  s3: number;
  dynamodb: number;
  crossed: number;
}

async function run(name: string, interval: number | null, failAfterCheckpoints?: number): Promise<RunResult> {
  const graph = pipeline(name, interval);
  const topology = compileTopology(graph);
  const config = awsConfigFromEnv(topology);
  await provisionJob(topology, config, { visibilityTimeoutSeconds: 30, maxReceiveCount: 10 });
  const ports: AwsPorts = awsPorts(config);
  const host = new LocalLambdaHost(graph, ports, {
    heartbeatMs: 1000,
    runtime: { flow: queueDepthFlow(ports.queue, { maxDepth: 8 }) },
  });
  const started = performance.now();
  await host.recovery.start();
  host.start();
  let recoveryMs: number | null = null;
  let failedAt: number | null = null;
  let failedGen = 0;
  const durations = new Map<number, number>();
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const j = (await ports.manifest.getJob(graph.name))!;
    for (const c of await ports.manifest.listCheckpoints(graph.name, { limit: 20 })) {
      if (c.status === 'COMPLETED' && c.completedAt !== null) durations.set(c.id, c.completedAt - c.triggeredAt);
    }
    if (failAfterCheckpoints !== undefined && failedAt === null && durations.size >= failAfterCheckpoints) {
      failedAt = performance.now();
      failedGen = j.gen + 1;
      await host.recovery.restore({ request: { kind: 'latest' }, reason: 'benchmark: forced failure' });
    }
    if (failedAt !== null && recoveryMs === null) {
      const parts = await ports.blobs.list(blobKeys.stagedPart(graph.name, 'out', 0, failedGen as never, ''));
      if (parts.length > 0) recoveryMs = performance.now() - failedAt;
    }
    if (j.status === 'FINISHED') break;
    if (j.status === 'FAILED') throw new Error(`benchmark job failed: ${j.detail}`);
  }
  const seconds = (performance.now() - started) / 1000;
  await host.stop();
  const committed = (await readCommitted(ports.blobs, graph.name, 'out')).records.length;
  if (committed !== RECORDS) throw new Error(`committed ${committed} records, expected ${RECORDS}`);
  return {
    seconds,
    checkpointMs: [...durations.values()],
    recoveryMs,
    sqs: total(ports.requests.sqs),
    sqsByOperation: { ...ports.requests.sqs },
    s3: total(ports.requests.s3),
    dynamodb: total(ports.requests.dynamodb),
    crossed: host.records.crossedQueues,
  };
}

async function threeStages(): Promise<Record<string, unknown>> {
  console.log(`3-stage pipeline: ${RECORDS.toLocaleString('en-US')} records`);
  const off = await run('bench-off', null);
  console.log(`checkpoints off: ${off.seconds.toFixed(1)} s, ${Math.round(RECORDS / off.seconds)} rec/s, SQS ${off.sqs}, S3 ${off.s3}, DynamoDB ${off.dynamodb} requests`);
  const on = await run('bench-on', 1000);
  console.log(`checkpoints every 1 s: ${on.seconds.toFixed(1)} s, ${Math.round(RECORDS / on.seconds)} rec/s, ${on.checkpointMs.length} checkpoints, SQS ${JSON.stringify(on.sqsByOperation)}`);
  const failure = await run('bench-fail', 1000, 2);
  console.log(`forced failure after 2 checkpoints: first output after restore in ${failure.recoveryMs?.toFixed(0)} ms`);
  const perMillion = (n: number, records: number) => Math.round((n / records) * 1e6);
  return {
    records: RECORDS,
    recordsPerSecOff: Math.round(RECORDS / off.seconds),
    recordsPerSecOn: Math.round(RECORDS / on.seconds),
    checkpointP50Ms: percentile(on.checkpointMs, 50),
    checkpointP95Ms: percentile(on.checkpointMs, 95),
    checkpointsCompleted: on.checkpointMs.length,
    recoveryMs: failure.recoveryMs === null ? null : Math.round(failure.recoveryMs),
    sqsRequestsPerMillionPerHop: perMillion(on.sqs, on.crossed),
    s3RequestsPerMillion: perMillion(on.s3, RECORDS),
    dynamodbRequestsPerMillion: perMillion(on.dynamodb, RECORDS),
  };
}

/** The figures are reported whatever they are; a run that did not end exactly once fails the benchmark after. */
async function sevenStages(): Promise<Record<string, unknown>> {
  const { figures: f, lines } = await runSevenStages();
  const cp = f.checkpoints;
  console.log(
    `seven-stage job: ${f.stages} stages, ${f.inputLines.toLocaleString('en-US')} lines, ${f.status} in ${f.seconds.toFixed(1)} s (job ${f.jobSeconds ?? '-'} s), ` +
      `checkpoints ${cp.completed} completed / ${cp.expired} expired / ${cp.failed} failed, ${f.restarts} restarts, exactly-once ${f.exactlyOnce}`,
  );
  if (f.status !== 'FINISHED' || f.exactlyOnce !== 'ok') {
    for (const line of lines) console.log(`[seven-stages] ${line}`);
    process.exitCode = 1;
  }
  return { sevenStages: f };
}

const emulator = await startEmulator({ log: (line) => console.log(`[emulator] ${line}`) });
try {
  Object.assign(process.env, emulatorEnv(emulator.endpoint));
  console.log(`tidemark local benchmark: ${ONLY.join(', ')} on ${emulator.kind} at ${emulator.endpoint}`);
  const result = {
    emulator: emulator.kind,
    ...(ONLY.includes('three-stages') ? await threeStages() : {}),
    ...(ONLY.includes('seven-stages') ? await sevenStages() : {}),
  };
  console.log(JSON.stringify(result));
} finally {
  await emulator.stop();
}
