/**
 * The project's own CDK CLI (the pinned `aws-cdk` devDependency), run as a child process for
 * `tidemark deploy`: bootstrap an environment, deploy the job's stack, and read its outputs.
 *
 * What must hold: the CLI's account cache (`~/.cdk`) is never shared with another emulator.
 * CDK caches the account it resolved per access key, so an account cached for the same key
 * by another endpoint would send the bootstrap to the wrong account: emulator deploys run
 * with their own CDK_HOME.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { TerminalError, type CauseOption } from '../lib/core/errors.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Scratch space of emulator deploys: never committed, the same from one deploy to the next. */
export const DEPLOY_CACHE = join(ROOT, 'node_modules', '.cache', 'tidemark', 'deploy');

/** `cdk bootstrap` or `cdk deploy` failed; the message carries the CLI's last lines. */
export class DeployError extends TerminalError {
  readonly code = 'DEPLOY';
  constructor(message: string, options?: CauseOption) {
    super(message, options);
  }
}

export interface CdkOptions {
  /** The environment of the CLI: credentials, region and endpoint of the target. */
  readonly env: Record<string, string>;
  /** Lines worth showing while it works (stack events are summarized, not echoed). */
  readonly log: (line: string) => void;
  /** Takes the CLI's stdout, line by line, instead of summarizing it. */
  readonly stdout?: (line: string) => void;
  /** `-c name=value` for the app (infra/app.ts): fault injection's settings. @default - none */
  readonly context?: Readonly<Record<string, string>>;
}

/**
 * `cdk bootstrap aws://ACCOUNT/REGION`: the staging bucket and roles `cdk deploy` needs.
 * With `forEnforcedIam`, CDK's own template minus the one condition the emulator's IAM
 * cannot evaluate (see `withoutResourceAccountCondition`).
 */
export async function bootstrap(account: string, region: string, options: CdkOptions & { readonly forEnforcedIam?: boolean }): Promise<void> {
  mkdirSync(DEPLOY_CACHE, { recursive: true });
  // Its own cloud assembly directory, as for deploy: the CLI locks the one it uses, and two
  // bootstraps at once (a test and a user's deploy) would otherwise refuse each other.
  const assembly = join(DEPLOY_CACHE, `cdk.out-bootstrap-${process.pid}`);
  const args = ['bootstrap', `aws://${account}/${region}`, '-o', assembly];
  const template = join(DEPLOY_CACHE, `bootstrap-${process.pid}.yaml`);
  try {
    if (!options.forEnforcedIam) return await cdk(args, options, 'cdk bootstrap');
    const lines: string[] = [];
    await cdk(['bootstrap', '--show-template', '-o', assembly], { ...options, stdout: (line) => lines.push(line) }, 'cdk bootstrap --show-template');
    writeFileSync(template, withoutResourceAccountCondition(lines.join('\n')));
    await cdk([...args, '--template', template], options, 'cdk bootstrap');
  } finally {
    rmSync(template, { force: true });
    rmSync(assembly, { recursive: true, force: true });
  }
}

/**
 * MiniStack's IAM evaluator does not know the condition key `aws:ResourceAccount`, so the
 * file-publishing role's only grant (on the staging bucket, "in this account") never
 * matches there and no asset can be uploaded. In one account the condition adds nothing;
 * the emulator's bootstrap stack goes without it. The job's stack is untouched.
 */
export function withoutResourceAccountCondition(template: string): string {
  const condition = /\n[ \t]+Condition:\n[ \t]+StringEquals:\n[ \t]+aws:ResourceAccount:\n[ \t]+- Fn::Sub: \$\{AWS::AccountId\}/g;
  const found = template.match(condition)?.length ?? 0;
  if (found !== 1) throw new DeployError(`the CDK bootstrap template has ${found} aws:ResourceAccount conditions where 1 was expected: this CDK version is not the one tidemark was tested with`);
  return template.replace(condition, '');
}

/**
 * `cdk deploy` of the job module's stack (infra/app.ts with `-c job=FILE`), then its outputs
 * (output id → value) as the CLI wrote them.
 */
export async function deployStack(jobFile: string, options: CdkOptions): Promise<{ stack: string; outputs: Record<string, string> }> {
  mkdirSync(DEPLOY_CACHE, { recursive: true });
  // Per process: two deploys at once (a test and a user's) must not share a cloud assembly.
  const outputsFile = join(DEPLOY_CACHE, `outputs-${process.pid}.json`);
  const assembly = join(DEPLOY_CACHE, `cdk.out-${process.pid}`);
  const job = relative(ROOT, jobFile).split('\\').join('/');
  const context = Object.entries({ job, ...options.context }).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  const args = ['deploy', '--all', '--require-approval', 'never', '--progress', 'events', ...context, '--outputs-file', outputsFile, '-o', assembly];
  try {
    await cdk(args, options, 'cdk deploy');
    const all = JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>;
    const [stack, outputs] = Object.entries(all)[0] ?? [];
    if (!stack || !outputs) throw new DeployError(`cdk deploy wrote no stack outputs to ${outputsFile}`);
    return { stack, outputs };
  } finally {
    rmSync(outputsFile, { force: true });
    rmSync(assembly, { recursive: true, force: true });
  }
}

/** The value of the output whose id is `name` followed by CDK's 8-hex-digit hash. */
export function outputNamed(outputs: Record<string, string>, name: string): string {
  const hit = Object.entries(outputs).find(([id]) => new RegExp(`${name}[0-9A-F]{8}$`).test(id));
  if (!hit) throw new DeployError(`the deployed stack has no ${name} output (outputs: ${Object.keys(outputs).join(', ')})`);
  return hit[1];
}

const TAIL_LINES = 40;

function cdk(args: string[], options: CdkOptions, what: string): Promise<void> {
  const cli = createRequire(import.meta.url).resolve('aws-cdk/bin/cdk');
  return new Promise((resolve, reject) => {
    // cwd: the project root, whose cdk.json names the app and keeps notices and telemetry off.
    const child = spawn(process.execPath, [cli, ...args], { cwd: ROOT, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    if (options.stdout) createInterface({ input: child.stdout }).on('line', options.stdout);
    for (const stream of options.stdout ? [child.stderr] : [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        tail.push(line);
        if (tail.length > TAIL_LINES) tail.shift();
        if (/✅|✨ {2}Deployment time|failed:|ROLLBACK/.test(line)) options.log(`${what}: ${line.trim()}`);
      });
    }
    child.once('error', (e) => reject(new DeployError(`${what} could not start: ${e.message}`, { cause: e })));
    child.once('close', (code) => {
      if (code === 0) return resolve();
      reject(new DeployError(`${what} failed (exit ${code}):\n${tail.join('\n')}`));
    });
  });
}
