/**
 * What `tidemark dev` and `tidemark deploy --local --stay` do once their job has ended: stay
 * up (emulator, and the dev's local host) until Ctrl-C or SIGTERM, so that output, dead letters
 * and state can be inspected and the operations commands used from another terminal — and
 * answer a `tidemark restore` that brings another version of the job's code (local/dev-code.ts).
 */
import { followCodeRequests } from './dev-code.js';
import type { HostControl } from './run-job.js';

export async function stayUp(job: string, host: HostControl, log: (line: string) => void): Promise<void> {
  const follower = followCodeRequests(job, (file) => host.reload(file), log);
  try {
    await untilSignal();
  } finally {
    await follower.stop();
  }
}

export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.removeListener('SIGINT', done);
      process.removeListener('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
