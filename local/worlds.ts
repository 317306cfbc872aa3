/**
 * Where a local run happens: the in-memory adapters, or an AWS-compatible emulator — the
 * endpoint in AWS_ENDPOINT_URL (LocalStack on 4566, …) or, by default, moto started and
 * stopped by the project. Either way the job's queues, bucket and table are provisioned
 * from the topology.
 */
import { memoryPorts } from '../lib/adapters/memory/index.js';
import type { AwsPorts } from '../lib/adapters/aws/index.js';
import type { Topology } from '../lib/core/topology.js';
import { systemClock } from '../lib/ports/clock.js';
import type { Ports } from '../lib/ports/index.js';

export interface LocalWorld {
  readonly kind: 'memory' | 'moto' | 'external';
  readonly ports: Ports;
  /** API calls made, when talking to an emulator. */
  readonly requests: AwsPorts['requests'] | null;
  /** Where a sink's committed output can be read. */
  location(prefix: string): string;
  close(): Promise<void>;
}

export interface WorldOptions {
  readonly memory: boolean;
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;
  readonly log: (line: string) => void;
}

export async function openWorld(topology: Topology, options: WorldOptions): Promise<LocalWorld> {
  if (options.memory) {
    const ports = memoryPorts(systemClock);
    for (const s of topology.stages) {
      ports.queue.createQueue(s.deadLetterQueue);
      ports.queue.createQueue(s.queue, { deadLetterQueue: s.deadLetterQueue, maxReceiveCount: options.maxReceiveCount });
    }
    ports.queue.createQueue(topology.resources.timerQueue);
    return {
      kind: 'memory',
      ports,
      requests: null,
      location: (prefix) => `memory://${topology.resources.bucket}/${prefix}`,
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
    const config = awsConfigFromEnv(topology);
    await provisionJob(topology, config, { visibilityTimeoutSeconds: options.visibilityTimeoutSeconds, maxReceiveCount: options.maxReceiveCount });
    const ports = awsPorts(config);
    return {
      kind: emulator.kind,
      ports,
      requests: ports.requests,
      location: (prefix) => `s3://${config.bucket}/${prefix} (endpoint ${emulator.endpoint})`,
      close: () => emulator.stop(),
    };
  } catch (e) {
    await emulator.stop();
    throw e;
  }
}
