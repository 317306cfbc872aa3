/**
 * What every Lambda handler does once per cold start: take the job, compile its topology,
 * read configuration from the environment, build the AWS adapters. Handlers stay thin.
 */
import { JobBuilder } from '../lib/api/job.js';
import { awsConfigFromEnv } from '../lib/adapters/aws/config.js';
import { awsPorts } from '../lib/adapters/aws/index.js';
import type { JobGraph } from '../lib/core/graph.js';
import { compileTopology, type Topology } from '../lib/core/topology.js';
import type { Ports } from '../lib/ports/index.js';

export type JobInput = JobBuilder | JobGraph;

export interface HandlerDeps {
  /** Adapters to use instead of AWS ones built from the environment (tests, local host). */
  readonly ports?: Ports;
  readonly env?: NodeJS.ProcessEnv;
}

export interface HandlerContext {
  readonly graph: JobGraph;
  readonly topology: Topology;
  readonly ports: Ports;
  readonly env: NodeJS.ProcessEnv;
}

export function handlerContext(job: JobInput, deps: HandlerDeps): HandlerContext {
  const graph = job instanceof JobBuilder ? job.build() : job;
  const topology = compileTopology(graph);
  const env = deps.env ?? process.env;
  return { graph, topology, env, ports: deps.ports ?? awsPorts(awsConfigFromEnv(topology, env)) };
}
