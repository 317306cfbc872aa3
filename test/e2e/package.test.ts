/**
 * Tidemark as a user gets it (README, "Use it from your own project"): the tarball `npm pack`
 * makes, installed into a fresh project in a temp directory, and used from there through its
 * three entry points — the `tidemark` bin (`npx tidemark run src/job.ts --memory`), the API
 * (`import … from 'tidemark'`: the job is the README's first sample, verbatim) and the
 * construct (`TidemarkJob` from 'tidemark/infra' in the project's own CDK app, synthesized by
 * the CLI the project pins). Everything the package holds is TypeScript, compiled inside
 * node_modules by tsx (bin, CDK app) and by esbuild (the Lambda bundles).
 *
 * No network, by construction:
 * - Installing. `npm install --offline <tarball>` alone fails (ENOTCACHED): `npm ci` fills the
 *   cache with tarballs only, fetched by the lockfile's URLs, never with the registry's
 *   package documents that resolving a range such as `@aws-sdk/client-s3@^3…` needs. So the
 *   user project starts from a lockfile derived from this project's package-lock.json: every
 *   dependency is then already resolved (same versions, URLs and integrity), and npm only
 *   extracts tarballs that `npm ci` has just put in the cache. That keeps the install what a
 *   user's is — npm reads the tarball's files list, links its bin, hoists its dependencies —
 *   where symlinking this project's node_modules would not (and would resolve the package's
 *   dependencies from here, hiding mistakes). The lockfile never names tidemark itself: npm's
 *   cache keeps tarballs by integrity, so a stale entry would install an older pack.
 * - Running. Child processes get no npm_* variables of the `npm test` around us (they would
 *   point npm at this project), npm in offline mode, and no AWS credentials or config files,
 *   so the CDK CLI cannot call STS; its notices and telemetry are off in the project's
 *   cdk.json and its version check is disabled.
 *
 * About 25–35 s on two busy cores, most of it extracting aws-cdk-lib and bundling.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const STEP_TIMEOUT_MS = 180_000;

interface Output {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; on failure the error carries everything it printed. */
function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Output> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: STEP_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) failed: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** The environment of every child: this one minus what would make it reach out or look here. */
function isolatedEnv(home: string): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_userconfig', 'npm_config_globalconfig', 'npm_config_registry']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !keep.has(k.toLowerCase())) continue;
    if (/^(AWS_|CDK_)/.test(k) && k !== 'AWS_CA_BUNDLE') continue;
    if (k === 'INIT_CWD' || k === 'TIDEMARK_RECORDS') continue;
    env[k] = v;
  }
  return {
    ...env,
    npm_config_offline: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'no-aws-credentials'),
    AWS_CONFIG_FILE: join(home, 'no-aws-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_VERSION_CHECK: '1',
  };
}

/** The README's first TypeScript sample: the job a user starts from. */
async function readmeSample(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const sample = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!sample) throw new Error('README.md has no ```ts sample');
  return sample;
}

const CDK_APP = `import { App, Stack } from 'aws-cdk-lib';
import { TidemarkJob } from 'tidemark/infra';
import wordcount from './job.js';

const app = new App();
const stack = new Stack(app, 'WordCount');
new TidemarkJob(stack, 'Job', { job: wordcount, jobModule: 'src/job.ts' });
`;

describe('the packed package, installed into a project of its own', () => {
  let temp: string;
  let project: string;
  let env: NodeJS.ProcessEnv;
  let packed: string[];

  beforeAll(async () => {
    temp = await mkdtemp(join(tmpdir(), 'tidemark-package-'));
    const packDir = join(temp, 'pack');
    project = join(temp, 'project');
    await mkdir(packDir);
    await mkdir(join(project, 'src'), { recursive: true });
    env = isolatedEnv(temp);

    const pack = JSON.parse((await run('npm', ['pack', '--json', '--pack-destination', packDir], ROOT, env)).stdout) as {
      filename: string;
      files: { path: string }[];
    }[];
    packed = pack[0]!.files.map((f) => f.path);
    const tarball = join(packDir, pack[0]!.filename);

    // What a user's CDK project has besides tidemark, at the versions this project pins.
    const own = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    const devDependencies = Object.fromEntries(['aws-cdk', 'aws-cdk-lib', 'constructs', 'esbuild'].map((name) => [name, own.devDependencies[name]!]));
    const manifest = { name: 'tidemark-user', version: '1.0.0', private: true, type: 'module', devDependencies };
    await writeFile(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { name: string; packages: Record<string, unknown> };
    lock.name = manifest.name;
    lock.packages[''] = { name: manifest.name, version: manifest.version, devDependencies };
    await writeFile(join(project, 'package-lock.json'), `${JSON.stringify(lock, null, 2)}\n`);
    await writeFile(join(project, 'src', 'job.ts'), await readmeSample());
    await writeFile(join(project, 'src', 'app.ts'), CDK_APP);
    const cdkJson = JSON.parse(await readFile(join(ROOT, 'cdk.json'), 'utf8')) as { notices: boolean; context: Record<string, unknown> };
    await writeFile(join(project, 'cdk.json'), JSON.stringify({ app: 'npx tsx src/app.ts', notices: cdkJson.notices, context: cdkJson.context }, null, 2));

    // No install scripts: tidemark has none, and esbuild's would only check its binary.
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], project, env);
  }, STEP_TIMEOUT_MS);

  afterAll(async () => {
    if (temp) await rm(temp, { recursive: true, force: true });
  });

  it('holds what the bin, the API and the construct need, and none of the tests, simulation or benchmarks', () => {
    for (const file of [
      'bin/tidemark.mjs',
      'lib/api/index.ts',
      'infra/index.ts',
      'functions/operator.ts',
      'local/cli.ts',
      'local/emulator-requirements.txt',
      'local/emulator-server.py',
      'docs/architecture.md',
      'README.md',
    ]) {
      expect(packed).toContain(file);
    }
    expect(packed.filter((f) => /^(test|sim|bench)\//.test(f) || f === 'infra/app.ts' || f.endsWith('.test.ts'))).toEqual([]);
    expect(existsSync(join(project, 'node_modules', '.bin', 'tidemark'))).toBe(true);
  });

  it.concurrent('runs the README sample with npx tidemark run --memory, exactly once', async () => {
    const { stdout } = await run('npx', ['--no', 'tidemark', 'run', 'src/job.ts', '--memory'], project, env);
    expect(stdout).toContain('job wordcount on memory: FINISHED');
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^exactly-once: OK \(/);
  });

  it.concurrent("synthesizes the project's CDK app with TidemarkJob, bundling the functions from node_modules", async () => {
    await run('npx', ['--no', 'cdk', 'synth', '-q'], project, env);
    const out = join(project, 'cdk.out');
    const template = JSON.parse(await readFile(join(out, 'WordCount.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
    };
    const resources = Object.values(template.Resources);
    const queues = resources.filter((r) => r.Type === 'AWS::SQS::Queue').map((r) => r.Properties.QueueName as string);
    expect(queues.sort()).toEqual(
      ['wordcount-counts-dlq.fifo', 'wordcount-counts.fifo', 'wordcount-lines-dlq.fifo', 'wordcount-lines.fifo', 'wordcount-timer'].sort(),
    );
    // Two operator stages, the coordinator and the recovery function, each bundled into an asset.
    const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions).toHaveLength(4);
    const assets = (await readdir(out)).filter((d) => d.startsWith('asset.'));
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const asset of assets) {
      const bundle = join(out, asset, 'index.mjs');
      expect(existsSync(bundle), bundle).toBe(true);
      // Self-contained, on plain Node as in Lambda: the job, the runtime and the SDK are all in it.
      const probe = 'const m = await import(process.argv[1]); console.log(typeof m.handler);';
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe, pathToFileURL(bundle).href], out, env);
      expect(stdout.trim(), bundle).toBe('function');
    }
    // The entries the construct generates live in the user's project, and import the job from it.
    const entry = await readFile(join(project, 'node_modules', '.cache', 'tidemark', 'wordcount', 'operator.ts'), 'utf8');
    expect(entry).toContain('"../../../../src/job.ts"');
    expect(entry).toContain('"../../../tidemark/functions/operator.ts"');
  });
});
