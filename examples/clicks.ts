/**
 * Clicks per user: counts in 1-minute tumbling windows and in 5-minute sessions, in event
 * time, over a shipped file of out-of-order clicks (examples/data/clicks.ndjson, from
 * make-clicks.mjs) — read by the S3 source, written by the exactly-once S3 sink.
 *
 *   npx tidemark run examples/clicks.ts --kill-rate 0.05
 *
 * `tidemark run` uploads the file to the source's prefix first (see `inputs`). Clicks up to
 * 30 s out of order still count; within another 30 s a minute window fires again with the
 * late click; later clicks go to `late-clicks`. Malformed lines land in the job's dead-letter
 * output. One source subtask: which clicks are late is then the same in every run.
 */
import { job, s3Sink, s3Source, session, tumbling, type Window } from '../lib/api/index.js';

interface Click {
  readonly user: string;
  readonly page: string;
  readonly time: string;
}

const clicks = job('clicks', {
  parallelism: 2,
  checkpoints: { interval: 2000, timeout: 60_000, tolerableFailedCheckpoints: 2 },
  restartStrategy: { type: 'fixed-delay', attempts: 10, delay: 500 },
});

const byUser = clicks
  .source('clicks', s3Source<Click>({ prefix: 'input/clicks/', batchSize: 250, timestamp: (c) => Date.parse(c.time) }), {
    parallelism: 1,
    watermarks: { outOfOrderness: 30_000 },
  })
  .keyBy((c) => c.user);

const span = (w: Window) => ({ start: new Date(w.start).toISOString(), end: new Date(w.end).toISOString() });
const count = { create: () => 0, add: (n: number) => n + 1, merge: (a: number, b: number) => a + b };

const perMinute = byUser
  .window(tumbling(60_000), { allowedLateness: 30_000, late: 'side-output' })
  .aggregate('per-minute', { ...count, result: (n, user, w) => ({ user, ...span(w), clicks: n }) });
perMinute.sink('minute-counts', s3Sink({ prefix: 'output/minute-counts/' }));
perMinute.lateRecords().sink('late-clicks', s3Sink({ prefix: 'output/late-clicks/' }));

byUser
  .window(session(5 * 60_000))
  .aggregate('sessions', { ...count, result: (n, user, w) => ({ user, ...span(w), clicks: n }) })
  .sink('session-counts', s3Sink({ prefix: 'output/sessions/' }));

export default clicks;

/** Files `tidemark run` loads into the sources before starting, relative to this module. */
export const inputs = { clicks: 'data/clicks.ndjson' };

export const describeResult = (records: unknown[]) => `${records.length} window results`;
