/**
 * Least privilege, proven on the emulator with IAM enforced: the word-count stack is deployed
 * as it is for AWS, and its coordinator runs under its own role. With the grants the
 * construct gives it, its first heartbeat starts the job; with one grant taken away
 * (`sqs:SendMessage` on the source queue, which the start polls need), the same heartbeat
 * fails with an access-denied error naming that action. The whole job running to an exact
 * result under its roles is the clicks deploy test's (`deploy --local --enforce-iam`).
 */
import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { outputNamed } from '../../local/cdk-cli.js';
import { deployStackTo } from '../../local/deploy-local.js';
import { startEmulator, type Emulator } from '../../local/emulator.js';
import { scheduledEvent } from '../../local/lambda-events.js';
import { tidemarkCli, userEnv } from '../support/cli.js';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

const tidemark = (args: string[], env: Record<string, string>) => tidemarkCli(args, { env, timeoutMs: 60_000 });

let emulator: Emulator | undefined;
afterAll(() => emulator?.stop());

describe('the deployed functions under their own roles, IAM enforced', () => {
  it('start the job with the grants the construct gives, and fail naming the action when one is taken away', async () => {
    emulator = await startEmulator({ enforceIam: true });
    const deployed = await deployStackTo(emulator, 'examples/wordcount.ts', { enforceIam: true, killRate: 0, out: () => {} });
    const { config } = deployed;
    const client = { region: config.region, endpoint: config.endpoint!, credentials: config.credentials!, requestHandler: { httpsAgent: new Agent({ ca: [...rootCertificates, readFileSync(emulator.certificate!, 'utf8')] }) } };
    const lambda = new LambdaClient(client);
    const iam = new IAMClient(client);
    const coordinator = outputNamed(deployed.outputs, 'CoordinatorFunctionName');
    const role = (await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: coordinator }))).Role!.split('/').pop()!;
    const [policyName] = (await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames!;
    const granted = JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: policyName! }))).PolicyDocument!)) as { Statement: Statement[] };
    const actions = (s: Statement) => [s.Action].flat();
    expect(granted.Statement.some((s) => actions(s).includes('sqs:SendMessage'))).toBe(true);

    const heartbeat = async () => {
      const r = await lambda.send(new InvokeCommand({ FunctionName: coordinator, Payload: JSON.stringify(scheduledEvent('heartbeat', Date.now())) }));
      return { error: r.FunctionError, payload: Buffer.from(r.Payload ?? []).toString('utf8') };
    };
    const put = (doc: unknown) => iam.send(new PutRolePolicyCommand({ RoleName: role, PolicyName: policyName!, PolicyDocument: JSON.stringify(doc) }));

    // One grant taken away: the start polls cannot be sent.
    const without = { ...granted, Statement: granted.Statement.map((s) => ({ ...s, Action: actions(s).filter((a) => a !== 'sqs:SendMessage') })).filter((s) => s.Action.length > 0) };
    await put(without);
    const denied = await heartbeat();
    expect(denied.error).toBeDefined();
    expect(denied.payload).toMatch(/AccessDenied.*not authorized to perform: sqs:SendMessage/);

    // The construct's grants again: the same heartbeat starts the job.
    await put(granted);
    const allowed = await heartbeat();
    expect(allowed, allowed.payload).toMatchObject({ error: undefined });

    // The operations commands find the deployed job through AWS_ENDPOINT_URL as they would on
    // AWS: its table by the job's name, its bucket (CloudFormation's name) from the job item.
    const cliEnv = {
      ...userEnv(),
      AWS_ENDPOINT_URL: config.endpoint!,
      AWS_REGION: config.region,
      AWS_ACCESS_KEY_ID: config.credentials!.accessKeyId,
      AWS_SECRET_ACCESS_KEY: config.credentials!.secretAccessKey,
      NODE_EXTRA_CA_CERTS: emulator.certificate!,
    };
    const status = await tidemark(['status', 'examples/wordcount.ts', '--json'], cliEnv);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ job: 'wordcount', target: `AWS_ENDPOINT_URL=${config.endpoint}`, generation: 1 });
    const output = await tidemark(['output', 'examples/wordcount.ts', 'out', '--limit', '1', '--json'], cliEnv);
    expect(output.code, output.stderr).toBe(0);
    expect(JSON.parse(output.stdout)).toMatchObject({ job: 'wordcount', sink: 'out' });
    expect(config.bucket).toMatch(/^tidemark-wordcount-jobstoragebucket/);
  }, 180_000);
});
