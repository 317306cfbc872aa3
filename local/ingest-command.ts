/**
 * `tidemark ingest <job-file> <file|-> [--source NAME] [--key FIELD]`: appends the lines of a
 * file (or stdin), one JSON record per line, to a log source of a job — on AWS, or on the
 * endpoint in AWS_ENDPOINT_URL (e.g. LocalStack), wherever the job runs. With --key the
 * records go to partitions by that field (one key stays in order); otherwise round-robin.
 * Before writing it checks that the endpoint answers and that the job's table exists, so
 * those mistakes get one line each instead of a failed call per batch.
 */
import { readFileSync } from 'node:fs';
import { AwsRequestError } from '../lib/adapters/aws/errors.js';
import { ConfigError, TerminalError } from '../lib/core/errors.js';
import type { SourceInput } from '../lib/core/graph.js';
import { compileTopology } from '../lib/core/topology.js';
import type { Ports } from '../lib/ports/index.js';
import { ingest } from '../lib/runtime/ingest.js';
import { loadJob } from './job-file.js';
import { patiently } from './retry.js';

export interface IngestOptions {
  readonly jobFile: string;
  readonly file: string;
  readonly source?: string;
  readonly key?: string;
  readonly out: (line: string) => void;
  /** Notes that are not the result (a job that has not started yet). @default silent */
  readonly warn?: (line: string) => void;
}

export async function ingestCommand(options: IngestOptions): Promise<void> {
  const { graph } = await loadJob(options.jobFile);
  const logs = graph.operators.flatMap((o) =>
    o.spec.kind === 'source' && o.spec.reader.input?.kind === 'log' ? [{ name: o.name as string, input: o.spec.reader.input }] : [],
  ) as { name: string; input: Extract<SourceInput, { kind: 'log' }> }[];
  if (logs.length === 0) throw new ConfigError('--source', `job ${graph.name} has no log source to ingest into`);
  const target = options.source ? logs.find((l) => l.name === options.source) : logs.length === 1 ? logs[0] : undefined;
  if (!target) {
    throw new ConfigError('--source', `name one of the job's log sources: ${logs.map((l) => l.name).join(', ')}`);
  }
  let text: string;
  try {
    text = readFileSync(options.file === '-' ? 0 : options.file, 'utf8');
  } catch (e) {
    throw new ConfigError('file', `cannot read ${options.file}: ${(e as Error).message}`);
  }
  const records = text
    .split('\n')
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => line.trim().length > 0)
    .map(({ line, n }) => {
      try {
        return JSON.parse(line) as unknown;
      } catch {
        throw new ConfigError(options.file === '-' ? 'stdin' : options.file, `line ${n} is not JSON`);
      }
    });
  const key = options.key;
  const keyOf = key === undefined ? undefined : (r: unknown) => (r as Record<string, string | number>)[key]!;
  // Loaded only here: the CLI's other commands may run without the AWS SDK.
  const [{ awsPorts }, { awsConfigFromEnv }] = await Promise.all([import('../lib/adapters/aws/index.js'), import('../lib/adapters/aws/config.js')]);
  const config = awsConfigFromEnv(compileTopology(graph));
  if (config.endpoint) await (await import('./emulator.js')).ensureReachable(config.endpoint);
  const ports = awsPorts(config);
  await checkJobExists(ports, graph.name, config.table, options.warn ?? (() => {}));
  const result = await ingest(ports.logs, graph.name, target.input.log, target.input.partitions, records, keyOf);
  options.out(`ingested ${result.appended} records into log ${target.input.log} of job ${graph.name} (per partition: ${result.perPartition.join(', ')})`);
}

/**
 * Records appended to a table that does not exist would be an error per batch: say once
 * that the job is not there. A table without the job item is a job that has not started
 * yet (a deployed one starts at its first heartbeat): the records wait in its log.
 */
async function checkJobExists(ports: Pick<Ports, 'manifest'>, job: string, table: string, warn: (line: string) => void): Promise<void> {
  let item;
  try {
    item = await patiently(`reading the job item of ${job}`, () => ports.manifest.getJob(job), { totalMs: 15_000 });
  } catch (e) {
    if (e instanceof AwsRequestError && e.awsCode === 'ResourceNotFoundException') {
      const where = process.env.AWS_ENDPOINT_URL ? `at AWS_ENDPOINT_URL=${process.env.AWS_ENDPOINT_URL}` : 'in this AWS account and region';
      throw new JobNotFoundError(`job ${job} does not exist ${where}: its table ${table} is missing; deploy it (npx cdk deploy -c job=<job-file>) or start it first`, { cause: e });
    }
    throw e;
  }
  if (!item) warn(`job ${job} has not started yet (no job item in table ${table}): the records wait in its log until it does`);
}

export class JobNotFoundError extends TerminalError {
  readonly code = 'JOB_NOT_FOUND';
}
