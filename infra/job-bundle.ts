/**
 * How the user's job becomes Lambda code. At synth time we write one tiny entry module per
 * role that imports the job module's default export and the role's handler factory, and
 * NodejsFunction bundles it with the project's own esbuild (never Docker). The entries live
 * under node_modules/.cache, which is never committed, at a path that stays the same from
 * one synth to the next so the bundles (and their asset hashes) do too.
 */
import { LogLevel, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Role } from '../lib/core/function-spec.js';
import { copyAssetCommands, type JobAsset } from './job-assets.js';
import { PropError } from './validate-props.js';

const FACTORIES: Record<Role, { module: string; factory: string }> = {
  operator: { module: '../functions/operator.ts', factory: 'createOperatorHandler' },
  coordinator: { module: '../functions/coordinator.ts', factory: 'createCoordinatorHandler' },
  recovery: { module: '../functions/recovery.ts', factory: 'createRecoveryHandler' },
};

/** Lock files NodejsFunction understands; the directory holding one is the project root. */
const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lockb', 'bun.lock'];

/** Lets bundled CommonJS dependencies `require` Node's built-ins from an ES module. */
const REQUIRE_SHIM = "import { createRequire as __tidemarkCreateRequire } from 'node:module'; const require = __tidemarkCreateRequire(import.meta.url);";

export interface JobBundle {
  readonly projectRoot: string;
  readonly depsLockFilePath: string;
  readonly entries: Readonly<Record<Role, string>>;
  readonly bundling: BundlingOptions;
}

export function prepareJobBundle(jobName: string, jobModule: string, assets: readonly JobAsset[]): JobBundle {
  const depsLockFilePath = findLockFile(dirname(jobModule));
  if (!depsLockFilePath) {
    throw new PropError('jobModule', `no ${LOCK_FILES.join(', ')} in ${dirname(jobModule)} or above: the bundler needs one to find the project root`);
  }
  const projectRoot = dirname(depsLockFilePath);
  const dir = join(projectRoot, 'node_modules', '.cache', 'tidemark', jobName);
  const entries = {} as Record<Role, string>;
  for (const role of Object.keys(FACTORIES) as Role[]) {
    entries[role] = writeIfChanged(join(dir, `${role}.ts`), entrySource(role, dir, jobModule, projectRoot));
  }
  return {
    projectRoot,
    depsLockFilePath,
    entries,
    bundling: {
      format: OutputFormat.ESM,
      // ESM builds of dependencies where they have them (the AWS SDK does): smaller bundles.
      mainFields: ['module', 'main'],
      banner: REQUIRE_SHIM,
      // Bundle the SDK version the project was tested with instead of the runtime's.
      bundleAwsSDK: true,
      minify: true,
      // Error class names and stack traces stay readable in the logs despite minifying.
      keepNames: true,
      sourceMap: true,
      sourcesContent: false,
      forceDockerBundling: false,
      logLevel: LogLevel.WARNING,
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (_inputDir, outputDir) => copyAssetCommands(assets, outputDir),
      },
    },
  };
}

function entrySource(role: Role, dir: string, jobModule: string, projectRoot: string): string {
  const { module, factory } = FACTORIES[role];
  const functionsModule = fileURLToPath(new URL(module, import.meta.url));
  const shown = relative(projectRoot, jobModule).split(sep).join('/');
  return [
    '// Generated at synth time by the TidemarkJob construct (infra/job-bundle.ts); do not edit.',
    `// The ${role} function's handler, built from the default export of ${shown}.`,
    `import job from ${JSON.stringify(specifier(dir, jobModule))};`,
    `import { ${factory} } from ${JSON.stringify(specifier(dir, functionsModule))};`,
    '',
    `if (job === undefined) throw new Error(${JSON.stringify(`${shown} has no default export: export the job`)});`,
    `export const handler = ${factory}(job);`,
    '',
  ].join('\n');
}

/** A relative import specifier, so the entry's text (and the bundle) is the same on every machine. */
function specifier(fromDir: string, file: string): string {
  const rel = relative(fromDir, file);
  if (isAbsolute(rel)) return rel.split(sep).join('/'); // another drive: nothing relative exists
  const posix = rel.split(sep).join('/');
  return posix.startsWith('.') ? posix : `./${posix}`;
}

function findLockFile(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    const found = LOCK_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
    if (found) return found;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Writes atomically, and only on change: parallel synths (test workers) share the files. */
function writeIfChanged(file: string, text: string): string {
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return file;
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, file);
  return file;
}
