/** `tidemark ingest` against the emulator, as against LocalStack or AWS. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../local/cli.js';
import { loadJob } from '../../local/run-job.js';
import { emulatorJob, uniqueJobName } from '../support/emulator-world.js';

describe('tidemark ingest', () => {
  it('appends a file of JSON lines to the job’s log source, by key', async () => {
    process.env.TIDEMARK_TEST_JOB = uniqueJobName('ing');
    const { graph } = await loadJob('test/fixtures/log-job.ts');
    const w = await emulatorJob(graph);
    const file = join(mkdtempSync(join(tmpdir(), 'tidemark-')), 'events.ndjson');
    writeFileSync(file, Array.from({ length: 30 }, (_, i) => JSON.stringify({ user: `u${i % 4}`, i })).join('\n') + '\n');
    const log: string[] = [];
    const spy = console.log;
    console.log = (line: string) => void log.push(line);
    try {
      expect(await main(['ingest', 'test/fixtures/log-job.ts', file, '--key', 'user'])).toBe(0);
    } finally {
      console.log = spy;
    }
    expect(log[0]).toMatch(/^ingested 30 records into log events/);
    const heads = await Promise.all([0, 1, 2].map((q) => w.ports.logs.head(graph.name, 'events', q)));
    expect(heads.reduce((a, b) => a + b, 0)).toBe(30);
    // one user's records share a partition, in order
    const all = (await Promise.all([0, 1, 2].map((q) => w.ports.logs.read(graph.name, 'events', q, 0, 100, 100)))).map((p) => p.map((e) => JSON.parse(e.value) as { user: string; i: number }));
    for (const partition of all) {
      for (const user of new Set(partition.map((r) => r.user))) {
        const mine = partition.filter((r) => r.user === user).map((r) => r.i);
        expect(mine).toEqual([...mine].sort((a, b) => a - b));
        expect(all.filter((p) => p.some((r) => r.user === user))).toHaveLength(1);
      }
    }
    expect(await main(['ingest', 'test/fixtures/log-job.ts', join(tmpdir(), 'no-such-file')])).toBe(1);
  });
});
