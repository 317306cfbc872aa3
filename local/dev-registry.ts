/**
 * Where a running `tidemark dev` can be found: `.tidemark/dev.json` in the directory it was
 * started from, written once its emulator is up and removed when it stops. The other
 * commands (`list`, `status`, `checkpoints`, …) read it when AWS_ENDPOINT_URL is not set.
 *
 * What must hold: a registry left behind by a dev that died (SIGKILL) is never trusted: it
 * names its owner's pid, and a dead owner's registry is ignored (and its emulator is gone
 * with it: see local/emulator.ts).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevJob {
  readonly name: string;
  /** The job file whose code the dev's host runs for this job now. */
  readonly jobFile: string;
  readonly table: string;
  readonly bucket: string;
  /** Another job file a `tidemark restore` asked the dev to run (local/dev-code.ts). */
  readonly codeRequest?: string;
  /** Why the dev could not load the requested file. */
  readonly codeError?: string;
}

export interface DevRegistry {
  readonly pid: number;
  /** `tidemark dev` (a local host runs the code), or `tidemark deploy --local` (a deployed stack does). @default 'dev' */
  readonly kind?: 'dev' | 'deploy';
  readonly endpoint: string;
  /** The PEM file of the emulator's certificate, when it serves https (IAM enforced). */
  readonly certificate?: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly jobs: readonly DevJob[];
}

export const registryFile = (dir = process.cwd()) => join(dir, '.tidemark', 'dev.json');

export function writeRegistry(registry: DevRegistry, dir = process.cwd()): void {
  const file = registryFile(dir);
  mkdirSync(join(dir, '.tidemark'), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(registry, null, 2)}\n`);
  renameSync(temp, file);
}

/** The registry of a live `tidemark dev`, or null. */
export function readRegistry(dir = process.cwd()): DevRegistry | null {
  const file = registryFile(dir);
  if (!existsSync(file)) return null;
  let registry: DevRegistry;
  try {
    registry = JSON.parse(readFileSync(file, 'utf8')) as DevRegistry;
  } catch {
    return null;
  }
  return alive(registry.pid) ? registry : null;
}

/** Removes the registry if it is this process's. */
export function removeRegistry(dir = process.cwd()): void {
  const file = registryFile(dir);
  try {
    if ((JSON.parse(readFileSync(file, 'utf8')) as DevRegistry).pid === process.pid) rmSync(file, { force: true });
  } catch {
    // gone already, or not ours to remove
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
