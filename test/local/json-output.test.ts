/**
 * `tidemark run --json` owns stdout: exactly one JSON object (the summary, with restarts and
 * the last failure) is printed there. What else a run writes — print sinks, progress, and
 * the coordinator's CloudWatch metric line for a failed checkpoint (which a Lambda writes
 * to stdout on purpose) — goes to stderr.
 */
import { describe, expect, it } from 'vitest';
import { memoryPorts, provisionMemoryQueues } from '../../lib/adapters/memory/index.js';
import { generator, collect, job } from '../../lib/api/index.js';
import { checkpointId } from '../../lib/core/ids.js';
import { newCheckpointRecord } from '../../lib/core/manifest.js';
import { systemClock } from '../../lib/ports/clock.js';
import { main } from '../../local/cli.js';
import { LocalLambdaHost } from '../../local/lambda-host.js';
import { uniqueJobName } from '../support/emulator-world.js';
import type { CostReport } from '../../lib/core/cost.js';

/** Runs `body` with stdout and stderr (streams and console) captured, line by line. */
async function captured<T>(body: () => Promise<T>): Promise<{ value: T; stdout: string[]; stderr: string[] }> {
  const chunks = { stdout: '', stderr: '' };
  const saved = { out: process.stdout.write, err: process.stderr.write, log: console.log, error: console.error };
  process.stdout.write = ((c: string | Uint8Array) => ((chunks.stdout += String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => ((chunks.stderr += String(c)), true)) as typeof process.stderr.write;
  console.log = (...parts: unknown[]) => void (chunks.stdout += `${parts.join(' ')}\n`);
  console.error = (...parts: unknown[]) => void (chunks.stderr += `${parts.join(' ')}\n`);
  try {
    const value = await body();
    const lines = (s: string) => s.split('\n').filter((l) => l.length > 0);
    return { value, stdout: lines(chunks.stdout), stderr: lines(chunks.stderr) };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    Object.assign(console, { log: saved.log, error: saved.error });
  }
}

const isMetric = (line: string) => line.includes('"FailedCheckpoints"');

describe('stdout of a local run', () => {
  it('the local host sends the coordinator’s failed-checkpoint metric to stderr, not stdout', async () => {
    const name = uniqueJobName('emf');
    const j = job(name, { checkpoints: { tolerableFailedCheckpoints: 5 } });
    j.source('src', generator({ count: 10, make: (i) => i })).sink('out', collect());
    const ports = memoryPorts(systemClock);
    const graph = j.build();
    const host = new LocalLambdaHost(graph, ports, { heartbeatMs: 100 });
    provisionMemoryQueues(ports.queue, host.topology, { maxReceiveCount: 5 });
    const { gen } = await host.recovery.start();
    // A pending checkpoint far past its timeout: the first heartbeat aborts it.
    const stale = newCheckpointRecord({ id: checkpointId(1000), gen, stages: {}, now: Date.now() - 11 * 60_000, savepoint: null, activity: 0 });
    await ports.manifest.createCheckpoint(name, { ...stale, triggersSent: true });
    const { stdout, stderr } = await captured(async () => {
      host.start();
      try {
        for (let i = 0; i < 200 && (await ports.manifest.getCheckpoint(name, checkpointId(1000)))?.status === 'PENDING'; i++) await new Promise((r) => setTimeout(r, 50));
      } finally {
        await host.stop();
      }
    });
    expect((await ports.manifest.getCheckpoint(name, checkpointId(1000)))?.status).toBe('ABORTED');
    expect(stdout.filter(isMetric)).toEqual([]);
    const metric = JSON.parse(stderr.find(isMetric)!) as Record<string, unknown>;
    expect(metric).toMatchObject({ Job: name, checkpoint: 1000, reason: 'CHECKPOINT_EXPIRED', FailedCheckpoints: 1 });
  });

  it('`tidemark run --json` prints exactly one JSON object on stdout; print sinks write to stderr', async () => {
    process.env.TIDEMARK_TEST_JOB = uniqueJobName('json');
    const { value: code, stdout, stderr } = await captured(() => main(['run', 'test/local/fixtures/print-job.ts', '--memory', '--json']));
    expect(code, stderr.join('\n')).toBe(0);
    expect(stdout).toHaveLength(1);
    const summary = JSON.parse(stdout[0]!) as Record<string, unknown>;
    expect(summary).toMatchObject({ job: process.env.TIDEMARK_TEST_JOB, status: 'FINISHED', restarts: 0, lastFailure: null, wireFaults: null });
    expect(summary.sinks).toMatchObject({ out: { records: 40 }, shown: { location: 'stderr' } });
    expect(stderr.filter((l) => l.startsWith('record '))).toHaveLength(40);
  });

  it('`tidemark run --memory --json examples/wordcount.ts` reports what AWS would bill in a `cost` object', async () => {
    const { value: code, stdout, stderr } = await captured(() => main(['run', 'examples/wordcount.ts', '--memory', '--json', '--records', '4000']));
    expect(code, stderr.join('\n')).toBe(0);
    const { cost, sourceRecords, checkpoints } = JSON.parse(stdout[0]!) as { cost: CostReport; sourceRecords: number; checkpoints: { status: string }[] };
    // Per checkpoint: over every checkpoint that completed, also those retention discarded since.
    const completed = checkpoints.filter((c) => c.status === 'COMPLETED').length;
    expect(completed).toBeGreaterThan(0);
    expect(cost.perCheckpoint).toBeCloseTo(cost.total / completed, 15);
    expect(cost.prices).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const service of ['sqs', 'dynamodb', 's3', 'lambda'] as const) expect(cost.byService[service], service).toBeGreaterThan(0);
    expect(cost.total).toBeCloseTo(cost.byService.sqs + cost.byService.dynamodb + cost.byService.s3 + cost.byService.lambda, 15);
    expect(cost.perMillionRecords).toBeCloseTo((cost.total / sourceRecords) * 1e6, 12);
    // Every SQS call is at least one billed request; every Lambda invocation at least 1 ms.
    expect(cost.units.sqsFifoBilled + cost.units.sqsStandardBilled).toBeGreaterThanOrEqual(cost.units.sqsRequests);
    expect(cost.units.lambdaGbSeconds).toBeGreaterThanOrEqual(cost.units.lambdaInvocations * 0.001 * 0.5);
  });
});
