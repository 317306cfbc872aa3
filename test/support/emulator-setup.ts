/**
 * Vitest globalSetup: one AWS emulator per test run (MiniStack from the project's .venv/, or the
 * endpoint in AWS_ENDPOINT_URL), shared with every test file as `inject('awsEndpoint')`, and
 * stopped at teardown. Tests create their own uniquely named queues, buckets and tables, so
 * files can run in parallel against the one emulator.
 */
import type { TestProject } from 'vitest/node';
import { startEmulator } from '../../local/emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Endpoint of the AWS emulator started for this test run. */
    awsEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const emulator = await startEmulator({ log: (line) => console.log(`[emulator] ${line}`) });
  project.provide('awsEndpoint', emulator.endpoint);
  return () => emulator.stop();
}
