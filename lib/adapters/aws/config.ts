/**
 * Where the AWS adapters point: region, an optional endpoint (an emulator), and the job's
 * table and bucket. Lambda handlers read it from the environment the CDK construct sets;
 * names default to the topology's, which is what the local host provisions.
 */
import { ConfigError } from '../../core/errors.js';
import type { Topology } from '../../core/topology.js';
import type { WireFaultOptions } from './wire-faults.js';

export interface AwsConfig {
  readonly region: string;
  /** An emulator endpoint (LocalStack, MiniStack); unset on AWS. S3 then uses path-style URLs. */
  readonly endpoint?: string;
  readonly table: string;
  readonly bucket: string;
  /**
   * PEM certificate(s) to trust besides the system's: an emulator serving https with a
   * self-signed certificate. @default - the system's roots only
   */
  readonly trustedCertificates?: string;
  /** Static credentials (an emulator's dummy keys); the SDK's default chain when unset. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string };
  /** ReceiveMessage long-poll wait. @default 0 (the local host polls; Lambda's poller long-polls itself) */
  readonly receiveWaitSeconds?: number;
  /** SDK attempts per call (standard retry mode, with backoff). The runtime retries too. @default 3 */
  readonly maxAttempts?: number;
  /**
   * Fault injection on the wire (throttling, 5xx, latency, lost responses), per attempt and
   * retried by the SDK like real faults: for local runs (`tidemark run --wire-faults`) and
   * tests. Never read from the environment, so a deployed function cannot get it. @default off
   */
  readonly wireFaults?: WireFaultOptions;
}

export const ENV = {
  table: 'TIDEMARK_TABLE',
  bucket: 'TIDEMARK_BUCKET',
  stage: 'TIDEMARK_STAGE',
  /** Set only on stacks synthesized with `faultInjection` (infra/props.ts). */
  killRate: 'TIDEMARK_KILL_RATE',
} as const;

export function awsConfigFromEnv(topology: Topology, env: NodeJS.ProcessEnv = process.env): AwsConfig {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = env.AWS_ENDPOINT_URL || undefined;
  if (endpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
    throw new ConfigError('AWS_ENDPOINT_URL', `must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  }
  return {
    region,
    ...(endpoint ? { endpoint } : {}),
    table: env[ENV.table] || topology.resources.table,
    bucket: env[ENV.bucket] || topology.resources.bucket,
  };
}
