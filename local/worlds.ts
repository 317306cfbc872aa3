/**
 * Where a local run happens: the in-memory adapters, or an AWS-compatible emulator — the
 * endpoint in AWS_ENDPOINT_URL (LocalStack on 4566, …) or, by default, MiniStack started and
 * stopped by the project. Either way the job's queues, bucket and table are provisioned
 * from the topology. On an emulator, the run's wire faults (if any) are in the AWS clients
 * of everything: provisioning, the job's functions, and the CLI's own polling and reading.
 */
import { memoryPorts, meterPorts, provisionMemoryQueues } from '../lib/adapters/memory/index.js';
import { Billing } from '../lib/core/cost.js';
import type { AwsPorts } from '../lib/adapters/aws/index.js';
import type { WireFaultCounts, WireFaultOptions } from '../lib/adapters/aws/wire-faults.js';
import { ConfigError } from '../lib/core/errors.js';
import type { EmulatorProfileOptions } from '../lib/core/resource-spec.js';
import type { Topology } from '../lib/core/topology.js';
import { systemClock } from '../lib/ports/clock.js';
import type { Ports } from '../lib/ports/index.js';

export interface LocalWorld {
  readonly kind: 'memory' | 'ministack' | 'external';
  readonly ports: Ports;
  /**
   * What the job's functions (the local host) talk through: the same world as `ports`, with
   * the job's billing units counted in `billing` (the CLI's own calls through `ports` are
   * not: a deployed job is not billed for its watcher).
   */
  readonly jobPorts: Ports;
  readonly billing: Billing;
  /** The emulator's endpoint and where the job's table and bucket are; null in memory. */
  readonly aws: { readonly endpoint: string; readonly region: string; readonly table: string; readonly bucket: string } | null;
  /** API calls made, when talking to an emulator. */
  readonly requests: AwsPorts['requests'] | null;
  /** Wire faults injected (provisioning and the job's calls), when the run asked for them. */
  readonly injected: WireFaultCounts | null;
  /** Where a sink's committed output can be read. */
  location(prefix: string): string;
  /** Creates what another version of the job needs and this one lacks (new stages' queues). */
  provision(topology: Topology): Promise<void>;
  close(): Promise<void>;
}

export interface WorldOptions extends EmulatorProfileOptions {
  readonly memory: boolean;
  readonly log: (line: string) => void;
  /** Faults on the wire of every AWS call of the run (provisioning, the job, the CLI's own). */
  readonly wireFaults?: WireFaultOptions;
}

export async function openWorld(topology: Topology, options: WorldOptions): Promise<LocalWorld> {
  if (options.memory) {
    // Wire faults live in the AWS SDK's middleware: the memory adapters have no wire.
    if (options.wireFaults) throw new ConfigError('wireFaults', 'wire faults are injected at the AWS SDK edge and need an emulator, not --memory');
    const ports = memoryPorts(systemClock);
    provisionMemoryQueues(ports.queue, topology, options);
    const billing = new Billing();
    return {
      kind: 'memory',
      ports,
      jobPorts: meterPorts(ports, billing),
      billing,
      aws: null,
      requests: null,
      injected: null,
      location: (prefix) => `memory://${topology.resources.bucket}/${prefix}`,
      provision: async (other) => provisionMemoryQueues(ports.queue, other, options),
      close: async () => {},
    };
  }
  // Loaded only for emulator runs: a memory run needs neither the SDK nor Python.
  const [{ emulatorEnv, startEmulator }, { provisionJob }, { awsPorts }, { awsConfigFromEnv }] = await Promise.all([
    import('./emulator.js'),
    import('./provision.js'),
    import('../lib/adapters/aws/index.js'),
    import('../lib/adapters/aws/config.js'),
  ]);
  const emulator = await startEmulator({ log: options.log });
  try {
    Object.assign(process.env, emulatorEnv(emulator.endpoint));
    const config = { ...awsConfigFromEnv(topology), ...(options.wireFaults ? { wireFaults: options.wireFaults } : {}) };
    const ports = awsPorts(config);
    // The job's functions get clients of their own, so `requests` and the bill are the job's
    // own (what a deployed job would be billed); faults count provisioning and the CLI's calls too.
    const jobPorts = awsPorts(config, ports.wireFaults ? { injected: ports.wireFaults } : {});
    await provisionJob(topology, config, options, ports.wireFaults ? { injected: ports.wireFaults } : {});
    return {
      kind: emulator.kind,
      ports,
      jobPorts,
      billing: jobPorts.billing,
      aws: { endpoint: emulator.endpoint, region: config.region, table: config.table, bucket: config.bucket },
      requests: jobPorts.requests,
      injected: ports.wireFaults,
      location: (prefix) => `s3://${config.bucket}/${prefix} (endpoint ${emulator.endpoint})`,
      provision: (other) => provisionJob(other, config, options, ports.wireFaults ? { injected: ports.wireFaults } : {}),
      close: () => emulator.stop(),
    };
  } catch (e) {
    await emulator.stop();
    throw e;
  }
}
