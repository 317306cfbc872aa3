/**
 * `tidemark ui` on its own, against AWS_ENDPOINT_URL (the emulator of the test run), after a
 * job ran there: it lists the job, draws its graph from the job file it was given, refuses a
 * savepoint of a job that is not running (what `tidemark savepoint` says), and stops on Ctrl-C.
 * A bad or taken port is one line and exit status 2.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { jobResources } from '../../lib/core/topology.js';
import { emulatorEnv } from '../../local/emulator.js';
import { uniqueJobName } from '../support/emulator-world.js';
import { TIDEMARK_BIN, tidemarkCli, until } from '../support/cli.js';

const JOB = 'test/local/fixtures/keyed-job.ts';

describe('tidemark ui', () => {
  it('serves the jobs of AWS_ENDPOINT_URL, with the graph of the job file it was given', async () => {
    const name = uniqueJobName('ui');
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_|TIDEMARK_)/.test(k)));
    const env = { ...base, ...emulatorEnv(inject('awsEndpoint')), TIDEMARK_TEST_JOB: name, TIDEMARK_RECORDS: '300' };
    const run = await tidemarkCli(['run', JOB, '--json', '--no-verify'], { env, timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);

    // Another table of the naming with no job item in it (a run still provisioning, a --fresh
    // deleting): the overview leaves it out, or marks it unreadable, and lists the others.
    const e = emulatorEnv(inject('awsEndpoint'));
    const dynamo = new DynamoDBClient({ region: e.AWS_REGION, endpoint: e.AWS_ENDPOINT_URL, credentials: { accessKeyId: e.AWS_ACCESS_KEY_ID!, secretAccessKey: e.AWS_SECRET_ACCESS_KEY! } });
    const empty = uniqueJobName('ui-empty');
    await dynamo.send(new CreateTableCommand({ TableName: jobResources(empty).table, BillingMode: 'PAY_PER_REQUEST', AttributeDefinitions: [{ AttributeName: 'x', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'x', KeyType: 'HASH' }] }));

    const ui = spawn(process.execPath, [TIDEMARK_BIN, 'ui', JOB, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    ui.stderr!.on('data', (d) => (stderr += d));
    try {
      await until('the UI is up', async () => /at http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+/.test(stderr), 60_000);
      const [, url, token] = /at (http:\/\/127\.0\.0\.1:\d+\/)\?token=([0-9a-f]+)/.exec(stderr)!;
      expect(stderr).toContain(`the jobs on AWS_ENDPOINT_URL=${inject('awsEndpoint')}`);

      const overview = (await (await fetch(`${url}jobs/overview`)).json()) as { jobs: { jid: string; state: string }[] };
      expect(overview.jobs).toContainEqual(expect.objectContaining({ jid: name, state: 'FINISHED' }));
      expect(overview.jobs.filter((j) => j.jid === empty).map((j) => j.state)).not.toContain('RUNNING');
      const job = (await (await fetch(`${url}jobs/${name}`)).json()) as { jobFile: string; plan: { nodes: { id: string }[] }; vertices: { id: string; metrics: { 'read-records': number } }[] };
      expect(job.plan.nodes.map((n) => n.id)).toEqual(['lines', 'counts']);
      // A finished job's last checkpoint saw every line.
      expect(job.vertices[0]!.metrics['read-records']).toBe(300);

      const refused = await fetch(`${url}jobs/${name}/savepoints`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
      expect(refused.status).toBe(409);
      expect(await refused.json()).toEqual({ errors: [`job ${name} is FINISHED, not RUNNING: a savepoint needs a running job`] });
      const page = await fetch(url!);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(await page.text()).toContain('/vendor/dagre.min.js');
      expect((await fetch(`${url}vendor/uPlot.iife.min.js`)).status).toBe(200);
    } finally {
      // The emulator is the whole test run's: the odd table goes again.
      await dynamo.send(new DeleteTableCommand({ TableName: jobResources(empty).table }));
      dynamo.destroy();
      const exit = new Promise<number | null>((resolve) => ui.once('exit', resolve));
      ui.kill('SIGINT');
      expect(await exit).toBe(0);
    }
  }, 240_000);

  it('says in one line that a port is bad or taken', async () => {
    const bad = await tidemarkCli(['ui', '--port', '70000'], { timeoutMs: 30_000 });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('tidemark: --port must be a port number from 0 to 65535, got 70000');

    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(AWS_|CDK_|TIDEMARK_)/.test(k))), ...emulatorEnv(inject('awsEndpoint')) };
      const busy = await tidemarkCli(['ui', '--port', String(port)], { env, timeoutMs: 30_000 });
      expect(busy.code).toBe(2);
      expect(busy.stderr.trim()).toBe(`tidemark: port ${port} is in use: choose another with --port N (0 picks a free one)`);
    } finally {
      taken.close();
    }
    const stray = await tidemarkCli(['ui', '--ui-port', '1'], { timeoutMs: 30_000 });
    expect(stray.stderr.trim()).toBe('tidemark: --ui-port is an option of `tidemark dev`, not of `tidemark ui`');
  }, 90_000);
});
