/**
 * Loads a job file for the CLI: a TypeScript or JavaScript module whose default export is a
 * job (`job(...)`, or its `build()`). A path that names no file, or a module that exports no
 * job, is a usage error with one line saying so; a module that throws while loading is
 * reported with its own message (a `ConfigError` of the job's definition names the field).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JobBuilder } from '../lib/api/job.js';
import { checkpointSettings } from '../lib/core/config.js';
import { TerminalError, TidemarkError, type CauseOption } from '../lib/core/errors.js';
import type { JobGraph } from '../lib/core/graph.js';
import { UsageError } from './cli-errors.js';

export interface JobModule {
  default?: unknown;
  /** Optional: describes committed results for the summary line, e.g. "118 words". */
  describeResult?: (records: unknown[]) => string;
  /** Optional: per source, a file to load first (relative to the module). */
  inputs?: Record<string, string>;
}

/** The job file is not there, or is not a job: the command line names the wrong file. */
export class JobFileError extends UsageError {
  constructor(message: string, options?: CauseOption) {
    super(message, false, options);
  }
}

/** The job file exists but threw while it was loaded (a syntax error, a bad definition). */
export class JobLoadError extends TerminalError {
  readonly code = 'JOB_LOAD';
  constructor(file: string, options: CauseOption) {
    const cause = options.cause;
    super(`cannot load job file ${file}: ${cause instanceof Error ? cause.message : String(cause)}`, options);
  }
}

export async function loadJob(file: string, interval?: number): Promise<{ graph: JobGraph; module: JobModule }> {
  const path = resolve(file);
  if (!existsSync(path)) throw new JobFileError(`job file ${file} does not exist`);
  if (!statSync(path).isFile()) throw new JobFileError(`job file ${file} is not a file`);
  let module: JobModule;
  try {
    module = (await import(pathToFileURL(path).href)) as JobModule;
  } catch (e) {
    // A job's own ConfigError (bad settings) says what is wrong already.
    if (e instanceof TidemarkError) throw e;
    throw new JobLoadError(file, { cause: e });
  }
  let graph = asJobGraph(file, module.default);
  if (interval !== undefined) graph = { ...graph, checkpoints: checkpointSettings({ ...graph.checkpoints, interval }) };
  return { graph, module };
}

function asJobGraph(file: string, exported: unknown): JobGraph {
  if (exported instanceof JobBuilder) return exported.build();
  const graph = exported as Partial<JobGraph> | null | undefined;
  if (typeof graph === 'object' && graph !== null && typeof graph.name === 'string' && Array.isArray(graph.operators) && graph.checkpoints) return graph as JobGraph;
  const what = exported === undefined ? 'has no default export' : `has a default export that is not a job (${describe(exported)})`;
  throw new JobFileError(`job file ${file} ${what}: export default job(...) (or its build())`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'function') return `a function${value.name ? ` ${value.name}` : ''}`;
  if (typeof value === 'object') return `an object${value.constructor?.name && value.constructor.name !== 'Object' ? ` of class ${value.constructor.name}` : ''}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
