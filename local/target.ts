/**
 * Where the operations commands (`list`, `status`, `checkpoints`) find a job: the endpoint in
 * AWS_ENDPOINT_URL if set (with the usual AWS_* credentials), else a running `tidemark dev`
 * (or `tidemark deploy --local`) started from this directory (local/dev-registry.ts), else AWS itself (the default
 * credential chain). A job's table and bucket are the ones the local runner provisions
 * (`jobResources`), or those the running `dev` recorded.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { awsPorts, type AwsConfig, type AwsPorts } from '../lib/adapters/aws/index.js';
import { jobResources } from '../lib/core/topology.js';
import { readRegistry, type DevRegistry } from './dev-registry.js';

export interface Target {
  /** `tidemark dev (pid N) at URL`, `AWS_ENDPOINT_URL=URL`, or `AWS (region)`. */
  readonly where: string;
  /** The jobs the target is known to hold (a dev's own, or the tables found there). */
  jobs(): Promise<string[]>;
  /** Ports onto one job's table, bucket and queues. */
  portsFor(job: string): AwsPorts;
  /** Where a key of the job's bucket is: `s3://bucket/key`, and the endpoint if not AWS. */
  locate(job: string, key: string): string;
  /** The running `tidemark dev` this target is, whose host runs the job's code (an upgrade must hand it the new code). */
  readonly dev?: DevRegistry;
  /**
   * Looks up where the job's data lives before `portsFor` and `locate` are used: on AWS (or
   * AWS_ENDPOINT_URL) a deployed job's bucket is named by CloudFormation and recorded in its
   * job item (core/manifest's `bucket`); the table is named by the job.
   */
  prepare(job: string): Promise<void>;
}

export function resolveTarget(env: NodeJS.ProcessEnv = process.env): Target {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (env.AWS_ENDPOINT_URL) return endpointTarget(`AWS_ENDPOINT_URL=${env.AWS_ENDPOINT_URL}`, { region, endpoint: env.AWS_ENDPOINT_URL });
  const dev = readRegistry();
  if (dev) return targetOfDev(dev);
  return endpointTarget(`AWS (${region})`, { region });
}

type Base = Pick<AwsConfig, 'region' | 'endpoint' | 'credentials' | 'maxAttempts' | 'trustedCertificates'>;

function endpointTarget(where: string, base: Base): Target {
  const buckets = new Map<string, string>();
  const resources = (job: string) => ({ ...jobResources(job), ...(buckets.has(job) ? { bucket: buckets.get(job)! } : {}) });
  return {
    where,
    jobs: () => jobTables(base),
    portsFor: (job) => awsPorts({ ...base, ...resources(job) }),
    locate: (job, key) => `s3://${resources(job).bucket}/${key}${base.endpoint ? ` (endpoint ${base.endpoint})` : ''}`,
    prepare: async (job) => {
      if (buckets.has(job)) return;
      try {
        const recorded = (await awsPorts({ ...base, ...jobResources(job) }).manifest.getJob(job))?.bucket;
        if (recorded) buckets.set(job, recorded);
      } catch {
        // No table, no job item, no access: the command's own read of the job item says which.
      }
    },
  };
}

/** The target a running `tidemark dev` (or `deploy --local`) is, from its registry. */
export function targetOfDev(dev: DevRegistry): Target {
  const base: Base = {
    region: dev.region,
    endpoint: dev.endpoint,
    credentials: { accessKeyId: dev.accessKeyId, secretAccessKey: dev.secretAccessKey },
    ...(dev.certificate ? { trustedCertificates: readFileSync(dev.certificate, 'utf8') } : {}),
  };
  const namesOf = (job: string) => {
    const known = dev.jobs.find((j) => j.name === job);
    return known ? { table: known.table, bucket: known.bucket } : jobResources(job);
  };
  return {
    where: `${dev.kind === 'deploy' ? 'tidemark deploy --local' : 'tidemark dev'} (pid ${dev.pid}) at ${dev.endpoint}`,
    dev,
    jobs: async () => dev.jobs.map((j) => j.name),
    portsFor: (job) => awsPorts({ ...base, ...namesOf(job) }),
    locate: (job, key) => `s3://${namesOf(job).bucket}/${key} (endpoint ${dev.endpoint})`,
    // The dev recorded its job's table and bucket.
    prepare: async () => {},
  };
}

/** Jobs whose tables the local runner's naming finds on the endpoint. */
async function jobTables(base: Base): Promise<string[]> {
  const client = new DynamoDBClient({ ...base, ...(base.endpoint ? { endpoint: base.endpoint } : {}) });
  const suffix = jobResources('').table;
  const jobs: string[] = [];
  try {
    let start: string | undefined;
    do {
      const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      for (const t of page.TableNames ?? []) if (t.endsWith(suffix)) jobs.push(t.slice(0, -suffix.length));
      start = page.LastEvaluatedTableName;
    } while (start);
  } finally {
    client.destroy();
  }
  return jobs;
}
