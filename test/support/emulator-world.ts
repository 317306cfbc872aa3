/**
 * Test helper: a job provisioned on the emulator the test run started (inject('awsEndpoint')),
 * with AWS adapters pointing at it. Every test uses its own job name, so resources never clash.
 */
import { inject } from 'vitest';
import type { JobGraph } from '../../lib/core/graph.js';
import { compileTopology, type Topology } from '../../lib/core/topology.js';
import { awsConfigFromEnv } from '../../lib/adapters/aws/config.js';
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
