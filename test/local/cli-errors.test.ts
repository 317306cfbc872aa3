/**
 * Ordinary mistakes with the `tidemark` command get one clear line on stderr, not a stack
 * trace, and an exit status: 2 for usage (options, a job file that is not there or not a
 * job), 1 for what goes wrong while running (nothing answers at the endpoint, no
 * credentials, a job that does not exist).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../local/cli.js';
import { loadJob } from '../../local/job-file.js';
import { emulatorJob, uniqueJobName, useEmulator } from '../support/emulator-world.js';

/** Runs the CLI in-process; returns its exit status and what it wrote to stderr and stdout. */
async function cli(...argv: string[]): Promise<{ code: number; stderr: string[]; stdout: string[] }> {
  const stderr: string[] = [];
  const stdout: string[] = [];
  const saved = { error: console.error, log: console.log };
  console.error = (...parts: unknown[]) => void stderr.push(...parts.join(' ').split('\n'));
  console.log = (...parts: unknown[]) => void stdout.push(...parts.join(' ').split('\n'));
  try {
    return { code: await main(argv), stderr, stdout };
  } finally {
    Object.assign(console, saved);
  }
}

// The fixture reads its name once, when first imported: one fresh job name for this file.
const JOB = uniqueJobName('clierr');
process.env.TIDEMARK_TEST_JOB = JOB;

const savedEndpoint = process.env.AWS_ENDPOINT_URL;
afterEach(() => {
  if (savedEndpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = savedEndpoint;
});

const oneLine = (r: { stderr: string[] }) => {
  expect(r.stderr, r.stderr.join('\n')).toHaveLength(1);
  expect(r.stderr[0]).toMatch(/^tidemark: /);
  return r.stderr[0]!;
};

const events = () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tidemark-')), 'events.ndjson');
  writeFileSync(file, '{"user":"a"}\n{"user":"b"}\n');
  return file;
};

describe('tidemark usage errors (exit 2)', () => {
  it('a job file that does not exist', async () => {
    const r = await cli('run', 'examples/no-such-job.ts');
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe('tidemark: job file examples/no-such-job.ts does not exist');
  });

  it('a job file whose default export is not a job', async () => {
    const r = await cli('run', 'test/local/fixtures/not-a-job.ts', '--memory');
    expect(r.code).toBe(2);
    expect(oneLine(r)).toBe('tidemark: job file test/local/fixtures/not-a-job.ts has a default export that is not a job (an object): export default job(...) (or its build())');
  });

  it('negative numbers given to options', async () => {
    for (const [flag, value, message] of [
      ['--interval', '-5', '--interval must be a positive number, got -5'],
      ['--duration', '-0.5', '--duration must be a positive number, got -0.5'],
      ['--records', '-10', '--records must be a positive number, got -10'],
      ['--kill-rate', '-0.1', '--kill-rate must be a number from 0 up to (not including) 1, got -0.1'],
      ['--wire-faults-seed', '-1', '--wire-faults-seed must be a whole number from 0, got -1'],
    ] as const) {
      const extra = flag === '--wire-faults-seed' ? ['--wire-faults', '0.01'] : [];
      const r = await cli('run', 'examples/wordcount.ts', ...extra, flag, value);
      expect(r.code, flag).toBe(2);
      expect(oneLine(r)).toBe(`tidemark: ${message}`);
    }
  });

  it('run-only options given to ingest, and ingest-only options given to run', async () => {
    const toIngest = await cli('ingest', 'test/fixtures/log-job.ts', 'events.ndjson', '--kill-rate', '0.1');
    expect(toIngest.code).toBe(2);
    expect(oneLine(toIngest)).toBe('tidemark: --kill-rate is an option of `tidemark run`, `tidemark dev` and `tidemark deploy`, not of `tidemark ingest`');
    for (const flag of ['--json', '--memory', '--wire-faults']) {
      const r = await cli('ingest', 'test/fixtures/log-job.ts', 'events.ndjson', flag, ...(flag === '--wire-faults' ? ['0.1'] : []));
      expect(r.code, flag).toBe(2);
      expect(oneLine(r)).toContain(`${flag} is an option of \`tidemark run\``);
    }
    for (const flag of ['--source', '--key']) {
      const r = await cli('run', 'examples/wordcount.ts', flag, 'x');
      expect(r.code, flag).toBe(2);
      expect(oneLine(r)).toBe(`tidemark: ${flag} is an option of \`tidemark ingest\`, not of \`tidemark run\``);
    }
    const idToStatus = await cli('status', '--job', 'x', '--id', '3');
    expect(oneLine(idToStatus)).toBe('tidemark: --id is an option of `tidemark checkpoints`, not of `tidemark status`');
    const devInMemory = await cli('dev', 'examples/wordcount.ts', '--memory');
    expect(devInMemory.code).toBe(2);
    expect(oneLine(devInMemory)).toMatch(/^tidemark: tidemark dev needs an emulator/);
  });

  it('wire faults without an emulator, or with rates that let nothing through', async () => {
    const memory = await cli('run', 'examples/wordcount.ts', '--memory', '--wire-faults', '0.02');
    expect(memory.code).toBe(2);
    expect(oneLine(memory)).toMatch(/--wire-faults .*needs an emulator.*--memory/);
    const all = await cli('run', 'examples/wordcount.ts', '--wire-faults', '0.4');
    expect(all.code).toBe(2);
    expect(oneLine(all)).toBe('tidemark: --wire-faults: throttle + 5xx + lost rates add up to 1.2: no request would get through');
    const unknown = await cli('run', 'examples/wordcount.ts', '--wire-faults', 'jitter=0.1');
    expect(oneLine(unknown)).toBe('tidemark: --wire-faults: unknown kind "jitter"; kinds are throttle, 5xx, latency, lost');
  });
});

describe('tidemark run-time errors (exit 1)', () => {
  it('an endpoint that refuses connections, for run and for ingest', async () => {
    process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1';
    for (const argv of [['run', 'examples/wordcount.ts'], ['ingest', 'test/fixtures/log-job.ts', events()]]) {
      const r = await cli(...argv);
      expect(r.code, argv[0]).toBe(1);
      expect(oneLine(r)).toMatch(/^tidemark: cannot reach AWS_ENDPOINT_URL=http:\/\/127\.0\.0\.1:1: connection refused/);
    }
  });

  it('ingest before the job exists: its table is missing; a table without a job item only gets a note', async () => {
    useEmulator();
    const job = JOB;
    const missing = await cli('ingest', 'test/fixtures/log-job.ts', events());
    expect(missing.code).toBe(1);
    expect(oneLine(missing)).toMatch(new RegExp(`^tidemark: job ${job} does not exist at AWS_ENDPOINT_URL=.*: its table ${job}\\S* is missing; deploy it .* or start it first$`));

    await emulatorJob((await loadJob('test/fixtures/log-job.ts')).graph);
    const notStarted = await cli('ingest', 'test/fixtures/log-job.ts', events());
    expect(notStarted.code).toBe(0);
    expect(oneLine(notStarted)).toMatch(new RegExp(`^tidemark: job ${job} has not started yet .*the records wait in its log`));
    expect(notStarted.stdout[0]).toMatch(/^ingested 2 records/);
  });

  it('ingest without credentials', () => {
    const endpoint = useEmulator();
    const home = mkdtempSync(join(tmpdir(), 'tidemark-home-'));
    // No keys, no profile files, no instance metadata: the SDK's chain finds nothing, and nothing leaves 127.0.0.1.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(home, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
      TIDEMARK_TEST_JOB: uniqueJobName('nocred'),
    };
    const r = spawnSync(process.execPath, ['bin/tidemark.mjs', 'ingest', 'test/fixtures/log-job.ts', events()], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(1);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toEqual([expect.stringMatching(/^tidemark: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/)]);
  });
});
