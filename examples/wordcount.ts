/**
 * Word count: keyed counts over a text corpus the repository ships
 * (examples/data/corpus.txt), read by a deterministic generator source that replays the
 * corpus line by line. Run it with `npm start` or `npx tidemark run examples/wordcount.ts`.
 */
import { readFileSync } from 'node:fs';
import { collect, generator, job } from '../lib/api/index.js';

const lines = readFileSync(new URL('./data/corpus.txt', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l.trim().length > 0);

/** Times the corpus is replayed; `TIDEMARK_RECORDS` overrides the number of lines read. */
const count = Number(process.env.TIDEMARK_RECORDS ?? lines.length * 800);

const wordcount = job('wordcount', {
  parallelism: 2,
  checkpoints: { interval: 2000, timeout: 60_000, tolerableFailedCheckpoints: 2 },
  restartStrategy: { type: 'fixed-delay', attempts: 10, delay: 500 },
});

wordcount
  .source('lines', generator({ count, batchSize: 200, make: (i) => lines[i % lines.length]! }))
  .flatMap('words', (line) => line.toLowerCase().match(/[a-z']+/g) ?? [])
  .keyBy((word) => word)
  .aggregate('counts', { create: () => 0, add: (n: number) => n + 1, result: (n, word) => ({ word, count: n }) })
  .sink('out', collect());

export default wordcount;

/** For `tidemark run`'s summary line: how many distinct words were counted. */
export const describeResult = (records: unknown[]) => `${new Set((records as { word: string }[]).map((r) => r.word)).size} words`;
