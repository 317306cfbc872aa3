/**
 * `tidemark run` on an endpoint that already has a job of that name (AWS_ENDPOINT_URL: here
 * the emulator of the test run, reused by two runs) refuses, naming the job's status and the
 * choices, and loads nothing; `--fresh` deletes what the old job left and runs it as new,
 * exactly once, in a generation past the old one.
 */
import { describe, expect, inject, it } from 'vitest';
import { emulatorEnv } from '../../local/emulator.js';
import { uniqueJobName } from '../support/emulator-world.js';
import { tidemarkCli } from '../support/cli.js';

const JOB = 'test/local/fixtures/keyed-job.ts';

const tidemark = (args: string[], env: NodeJS.ProcessEnv) => tidemarkCli(args, { env, timeoutMs: 230_000 });

interface Summary {
  readonly status: string;
  readonly generation: number;
  readonly exactlyOnce: { ok: boolean } | null;
  readonly sinks: Record<string, { records: number }>;
}

describe('tidemark run on an endpoint that has the job already', () => {
  it('is refused with the choices, and --fresh starts it over exactly once', async () => {
    const endpoint = inject('awsEndpoint');
    const name = uniqueJobName('rerun');
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_|TIDEMARK_)/.test(k)));
    const env = { ...base, ...emulatorEnv(endpoint), TIDEMARK_TEST_JOB: name, TIDEMARK_RECORDS: '600' };

    const first = await tidemark(['run', JOB, '--json'], env);
    expect(first.code, first.stderr).toBe(0);
    const one = JSON.parse(first.stdout) as Summary;
    expect(one).toMatchObject({ status: 'FINISHED', generation: 1, exactlyOnce: { ok: true } });

    const second = await tidemark(['run', JOB], env);
    expect(second.code).toBe(1);
    expect(second.stderr.trim()).toBe(
      `tidemark: job ${name} already exists on AWS_ENDPOINT_URL=${endpoint} (status FINISHED, generation 1): restore it with \`tidemark restore ${JOB} --from latest\`, or start over with --fresh`,
    );

    const fresh = await tidemark(['run', JOB, '--fresh', '--json'], env);
    expect(fresh.code, fresh.stderr).toBe(0);
    const two = JSON.parse(fresh.stdout) as Summary;
    expect(two).toMatchObject({ status: 'FINISHED', generation: 2, exactlyOnce: { ok: true } });
    // Only the new run's output: the old one's was deleted with it.
    expect(two.sinks.out!.records).toBe(one.sinks.out!.records);
    expect(fresh.stderr).toContain(`tidemark run --fresh: deleting what job ${name} (generation 1, FINISHED) left on AWS_ENDPOINT_URL=${endpoint}`);
  }, 240_000);
});
