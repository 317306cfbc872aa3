/**
 * Test helper: a job provisioned on the emulator the test run started (inject('awsEndpoint')),
 * with AWS adapters pointing at it. Every test uses its own job name, so resources never clash.
 */
import { inject } from 'vitest';
import type { JobGraph } from '../../lib/core/graph.js';
import { compileTopology, type StageTopology, type Topology } from '../../lib/core/topology.js';
import { awsConfigFromEnv, type AwsConfig } from '../../lib/adapters/aws/config.js';
import { awsPorts, type AwsPorts } from '../../lib/adapters/aws/index.js';
import { emulatorEnv } from '../../local/emulator.js';
import { provisionJob } from '../../local/provision.js';

export interface EmulatorJob {
  readonly graph: JobGraph;
  readonly topology: Topology;
  readonly ports: AwsPorts;
}

/** Points the AWS SDK of this test process at the shared emulator. */
export function useEmulator(): string {
  const endpoint = inject('awsEndpoint');
  Object.assign(process.env, emulatorEnv(endpoint));
  return endpoint;
}

export async function emulatorJob(graph: JobGraph, options: { visibilityTimeoutSeconds?: number; maxReceiveCount?: number } = {}): Promise<EmulatorJob> {
  useEmulator();
  const topology = compileTopology(graph);
  const config = awsConfigFromEnv(topology);
  await provisionJob(topology, config, { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 5, maxReceiveCount: options.maxReceiveCount ?? 5 });
  return { graph, topology, ports: awsPorts(config) };
}

let unique = 0;
/** A job name no other test (or earlier run on a long-lived emulator) uses. */
export const uniqueJobName = (prefix: string) => `${prefix}-${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}${++unique}`;

/**
 * The smallest provisioned job an adapter test needs: one stage's queues, a table and a
 * bucket under a fresh name, and the config to reach them (plus `extra`, e.g. wire faults;
 * provisioning itself runs without them).
 */
export async function provisionedAdapterJob(prefix: string, extra: Partial<AwsConfig> = {}): Promise<{ topology: Topology; config: AwsConfig }> {
  const job = uniqueJobName(prefix);
  const stage = { id: 'op', queue: `${job}-op.fifo`, deadLetterQueue: `${job}-op-dlq.fifo` } as unknown as StageTopology;
  const topology = { job, maxParallelism: 8, stages: [stage], resources: { table: `${job}-t`, bucket: `b${job}`.toLowerCase(), timerQueue: `${job}-timer` } } as unknown as Topology;
  const base: AwsConfig = {
    region: 'us-east-1',
    endpoint: inject('awsEndpoint'),
    table: topology.resources.table,
    bucket: topology.resources.bucket,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
  await provisionJob(topology, base, { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 });
  return { topology, config: { ...base, ...extra } };
}
