/**
 * `tidemark ingest <job-file> <file|-> [--source NAME] [--key FIELD]`: appends the lines of a
 * file (or stdin), one JSON record per line, to a log source of a job — on AWS, or on the
 * endpoint in AWS_ENDPOINT_URL (e.g. LocalStack), wherever the job runs. With --key the
 * records go to partitions by that field (one key stays in order); otherwise round-robin.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../lib/core/errors.js';
import type { SourceInput } from '../lib/core/graph.js';
import { compileTopology } from '../lib/core/topology.js';
import { ingest } from '../lib/runtime/ingest.js';
import { loadJob } from './run-job.js';

export interface IngestOptions {
  readonly jobFile: string;
  readonly file: string;
  readonly source?: string;
  readonly key?: string;
  readonly out: (line: string) => void;
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
  const ports = awsPorts(awsConfigFromEnv(compileTopology(graph)));
  const result = await ingest(ports.logs, graph.name, target.input.log, target.input.partitions, records, keyOf);
  options.out(`ingested ${result.appended} records into log ${target.input.log} of job ${graph.name} (per partition: ${result.perPartition.join(', ')})`);
}
