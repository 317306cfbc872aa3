/**
 * `tidemark deploy --local <job.ts>`: the job's real stack, deployed with `cdk deploy` into
 * the embedded emulator (or AWS_ENDPOINT_URL), runs there from its bundles — fed by the
 * deployed event source mappings, EventBridge rule and timer queue — and is watched like a
 * `tidemark run`: progress, the checkpoint table, and the exactly-once check against a
 * sequential evaluation, read from the deployed table and bucket.
 *
 * Nothing here plays AWS's part: this process only deploys, loads the job's input files,
 * starts the job and its coordinator's timer chain (so it runs now rather than at the first
 * heartbeat, a minute later), forces the restore `--restore-at` asks for, and reads. The
 * deployed functions do everything else, as they would on AWS.
 */
import { awsPorts, type AwsConfig } from '../lib/adapters/aws/index.js';
import { HEARTBEAT_MS, timerPeriodMs } from '../lib/core/coordinator-timer.js';
import type { JobGraph } from '../lib/core/graph.js';
import { compileTopology } from '../lib/core/topology.js';
import { dedupIds } from '../lib/core/wire/dedup-ids.js';
import { timerMessageBody } from '../lib/core/wire/queue-bodies.js';
import type { Ports } from '../lib/ports/index.js';
import { RecoveryManager } from '../lib/runtime/recovery-manager.js';
import { sendInOrder } from '../lib/runtime/sender.js';
import { bootstrap, deployStack, DeployError, DEPLOY_CACHE, outputNamed } from './cdk-cli.js';
import { EMULATOR_ACCOUNT, emulatorEnv, startEmulator, type Emulator } from './emulator.js';
import { inputFiles, loadInputs } from './inputs.js';
import { loadJob } from './job-file.js';
import { patiently, type Patience } from './retry.js';
import type { HostControl } from './run-job.js';
import type { RunSummary } from './run-summary.js';
import { jobOutcome, refuseEndedJob, reportingPatience, watchedSummary, watchJob } from './watch-job.js';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export interface DeployLocalOptions {
  readonly jobFile: string;
  /** Force one restore from the latest checkpoint after this many completed checkpoints. */
  readonly restoreAt?: number;
  /** Stop the job with a savepoint after this many seconds if it has not finished. */
  readonly durationSeconds?: number;
  /** Run the functions with their roles' permissions enforced (the emulator's IAM mode). */
  readonly enforceIam?: boolean;
  /** Fraction of operator invocations that die (the stack's `faultInjection`). @default 0 */
  readonly killRate?: number;
  readonly verify: boolean;
  readonly json: boolean;
  readonly out: (line: string) => void;
  readonly progress: ((line: string) => void) | null;
  readonly log?: (line: string) => void;
  readonly patience?: Patience;
  /** Called once the stack is deployed and the job started (the CLI records where, for the other commands). */
  readonly onStarted?: (deployed: DeployedStack, emulator: Emulator, job: string) => void;
  /** Called with the summary while the emulator is still up; it stops when this returns. */
  readonly whileUp?: (summary: RunSummary, host: HostControl) => Promise<void>;
}

export async function deployLocal(options: DeployLocalOptions): Promise<RunSummary> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const patience = reportingPatience(log, options.patience);
  const { graph, module } = await loadJob(options.jobFile);
  const emulator = await startEmulator({ log: options.out, enforceIam: options.enforceIam ?? false });
  try {
    const deployed = await deployStackTo(emulator, options.jobFile, { enforceIam: options.enforceIam ?? false, killRate: options.killRate ?? 0, out: options.out });
    const ports = awsPorts(deployed.config);
    await refuseEndedJob(ports, graph, patience, 'destroy its stack first, or use the embedded emulator (unset AWS_ENDPOINT_URL)');
    const files = inputFiles(options.jobFile, module.inputs, []);
    for (const l of await loadInputs(ports, graph, files)) options.out(`input ${l.source}: ${l.lines} lines from ${l.file} into ${l.where}`);
    const recovery = new RecoveryManager(graph, ports);
    await patiently(`starting job ${graph.name}`, () => startNow(ports, graph, recovery), patience);
    options.onStarted?.(deployed, emulator, graph.name);
    const watched = await watchJob(ports, graph, { ...options, patience, restore: (command) => recovery.restore(command) });
    const location = (prefix: string) => `s3://${deployed.config.bucket}/${prefix} (endpoint ${emulator.endpoint})`;
    const outcome = await jobOutcome(ports, graph, module, watched.job?.status, { ...options, patience, location, table: deployed.config.table });
    const summary = watchedSummary(watched, outcome, {
      job: graph.name,
      world: `${emulator.kind}, stack ${deployed.stack}`,
      // Kills happen inside the deployed functions, which die without a word: the emulator's
      // count of failed batches (kills, and any timeout) stands for them.
      kills: options.killRate ? (emulator.failedBatches?.() ?? 0) : 0,
      sourceRecords: 0,
      requests: null,
      wireFaults: null,
      ...(options.restoreAt === undefined ? {} : { restoreAt: options.restoreAt }),
    });
    // Another version of the job's code is another deploy: `cdk deploy` updates the stack in
    // place (new bundles, new stages' queues and functions), as on AWS; state stays in the
    // bucket and table, for the restore that follows.
    const redeploy: HostControl = {
      reload: async (jobFile) => {
        const next = await loadJob(jobFile);
        if (next.graph.name !== graph.name) throw new DeployError(`${jobFile} is job ${next.graph.name}, not ${graph.name}`);
        await deployStackTo(emulator, jobFile, { enforceIam: options.enforceIam ?? false, killRate: options.killRate ?? 0, out: options.out });
      },
    };
    await options.whileUp?.(summary, redeploy);
    return summary;
  } finally {
    await emulator.stop();
  }
}

export interface DeployedStack {
  readonly stack: string;
  /** Where the deployed table and bucket are, and how to reach them from here. */
  readonly config: AwsConfig;
  /** The stack's outputs, by output id. */
  readonly outputs: Record<string, string>;
}

export interface DeployToOptions {
  readonly enforceIam: boolean;
  /** Above 0: the stack is synthesized with fault injection (see `faultContext`). */
  readonly killRate: number;
  readonly out: (line: string) => void;
}

/**
 * A killed invocation's batch comes back after the stage queue's visibility timeout, six
 * times the operator timeout: at the default minute that is six minutes per kill. With fault
 * injection the stack gets this operator timeout instead (18 s of visibility), ample for an
 * emulator's invocations, which take milliseconds.
 */
const FAULT_INJECTION_OPERATOR_TIMEOUT_SECONDS = 3;

/** The CDK context (infra/app.ts) of a stack whose operator functions kill themselves at `killRate`. */
export function faultContext(killRate: number): Record<string, string> {
  return killRate > 0 ? { killRate: String(killRate), operatorTimeoutSeconds: String(FAULT_INJECTION_OPERATOR_TIMEOUT_SECONDS) } : {};
}

/** Bootstraps the emulator's account and deploys the job's stack; returns where its parts are. */
export async function deployStackTo(emulator: Emulator, jobFile: string, options: DeployToOptions): Promise<DeployedStack> {
  const { enforceIam, out } = options;
  const target = emulatorEnv(emulator.endpoint);
  // The CDK CLI builds its own https agent from AWS_CA_BUNDLE; node's own trust covers the rest.
  const trust: Record<string, string> = emulator.certificate ? { NODE_EXTRA_CA_CERTS: emulator.certificate, AWS_CA_BUNDLE: emulator.certificate } : {};
  const env = {
    ...cleanEnv(),
    ...target,
    ...trust,
    // Per process, like the cloud assembly: two deploys at once never share the CLI's cache.
    CDK_HOME: join(DEPLOY_CACHE, `cdk-home-${process.pid}`),
    // The SDK's "Node 22 after January 2027" warning: the pinned CLI runs on Node 20.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  const started = Date.now();
  let deployed;
  try {
    await bootstrap(EMULATOR_ACCOUNT, target.AWS_REGION!, { env, log: out, forEnforcedIam: enforceIam });
    deployed = await deployStack(jobFile, { env, log: out, context: faultContext(options.killRate) });
  } finally {
    rmSync(env.CDK_HOME, { recursive: true, force: true });
  }
  const { stack, outputs } = deployed;
  out(`deployed stack ${stack} to ${emulator.endpoint} in ${((Date.now() - started) / 1000).toFixed(1)} s (bootstrap included)`);
  const config: AwsConfig = {
    region: target.AWS_REGION!,
    endpoint: emulator.endpoint,
    table: outputNamed(outputs, 'TableName'),
    bucket: outputNamed(outputs, 'BucketName'),
    credentials: { accessKeyId: target.AWS_ACCESS_KEY_ID!, secretAccessKey: target.AWS_SECRET_ACCESS_KEY! },
    ...(emulator.certificate ? { trustedCertificates: readFileSync(emulator.certificate, 'utf8') } : {}),
  };
  return { stack, config, outputs };
}

/** The user's environment without anything that would point the CDK CLI elsewhere. */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined && !/^(AWS_|CDK_)/.test(e[0])));
}

/**
 * What the first heartbeat would do, now instead of up to a minute later: start the job (the
 * same recovery-manager call the coordinator makes for a job it finds missing) and hand the
 * deployed coordinator the first message of its timer chain, which it then keeps going. A
 * job that ticks once a minute or less often has no timer queue: its coordinator starts at
 * the rule's first heartbeat, and its checkpoints are a minute apart anyway.
 */
async function startNow(ports: Ports, graph: JobGraph, recovery: RecoveryManager): Promise<void> {
  await recovery.start();
  if (timerPeriodMs(graph.checkpoints.interval) >= HEARTBEAT_MS) return;
  const job = await ports.manifest.getJob(graph.name);
  if (!job) throw new DeployError(`job ${graph.name} has no job item after its start`);
  const timerQueue = compileTopology(graph).resources.timerQueue;
  await sendInOrder(ports.queue, ports.clock, [
    { queue: timerQueue, message: { group: 'timer', dedupId: dedupIds.timer(job.timer.token), body: timerMessageBody(graph.name, job.timer.token) } },
  ]);
}
