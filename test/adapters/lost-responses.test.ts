/**
 * Conditional writes whose response is lost, on the emulator: the request takes effect,
 * the SDK retries it, and the retry's condition fails on our own write. Each store must
 * still tell its caller the truth — the write is ours — or the step after it is skipped
 * (the next timer message, the checkpoint item, the spilled state blobs are deleted).
 * The faults come from the wire-fault middleware at the SDK edge, at a high rate.
 */
import { stagesOf } from '../../lib/core/checkpoint-acks.js';
import { describe, expect, it } from 'vitest';
import { awsPorts, type AwsPorts } from '../../lib/adapters/aws/index.js';
import { checkpointId, generation, jobName, type SubtaskKey } from '../../lib/core/ids.js';
import { initialJobRecord, newCheckpointRecord } from '../../lib/core/manifest.js';
import { updateJob } from '../../lib/runtime/job-records.js';
import { provisionedAdapterJob } from '../support/emulator-world.js';

async function lossyPorts(seed: number): Promise<{ ports: AwsPorts; job: string }> {
  // Many attempts, so that a call whose every attempt loses its response is practically impossible.
  const { topology, config } = await provisionedAdapterJob('lost', { maxAttempts: 8, wireFaults: { rates: { lost: 0.25 }, seed } });
  return { ports: awsPorts(config), job: topology.job };
}

const lostCount = (ports: AwsPorts) => ports.wireFaults?.dynamodb.lost ?? 0;

describe('conditional writes under lost responses (emulator)', () => {
  it('a job-item update that landed is reported as landed: a counter moved 30 times reads 30', async () => {
    const { ports, job } = await lossyPorts(1);
    await ports.manifest.putJob({ ...initialJobRecord(jobName(job), generation(1)), nextCheckpointId: 0 }, null);
    for (let i = 0; i < 30; i++) {
      const moved = await updateJob(ports.manifest, job, (j) => ({ ...j, nextCheckpointId: j.nextCheckpointId + 1 }));
      expect(moved?.nextCheckpointId).toBe(i + 1);
    }
    expect((await ports.manifest.getJob(job))?.nextCheckpointId).toBe(30);
    expect(lostCount(ports)).toBeGreaterThan(5);
  });

  it('a checkpoint is created once and completed by exactly one ack, whose caller learns it', async () => {
    const { ports, job } = await lossyPorts(2);
    const expected = Array.from({ length: 6 }, (_, i) => `op/${i}` as SubtaskKey);
    for (let id = 1; id <= 5; id++) {
      const record = newCheckpointRecord({ id: checkpointId(id), gen: generation(1), stages: stagesOf(expected), now: id, savepoint: null, activity: 0 });
      expect(await ports.manifest.createCheckpoint(job, record)).toBe(true);
      expect(await ports.manifest.createCheckpoint(job, { ...record, triggeredAt: 99 })).toBe(false);
      const kinds = [];
      for (const s of expected) kinds.push((await ports.manifest.ack(job, checkpointId(id), s, { key: 'k', bytes: 1, alignmentMs: 0, finished: false, progress: 0, at: 0 }, 10)).kind);
      expect(kinds).toEqual(['acked', 'acked', 'acked', 'acked', 'acked', 'completed']);
      expect(await ports.manifest.abort(job, checkpointId(id), 'CHECKPOINT_EXPIRED', 11)).toBe(false);
      await ports.manifest.markCommitted(job, checkpointId(id), 'op/0' as SubtaskKey);
      expect((await ports.manifest.getCheckpoint(job, checkpointId(id)))?.committed).toEqual(['op/0']);
    }
    expect(lostCount(ports)).toBeGreaterThan(5);
  });

  it('a state delta that landed is ours; another body at the same version is not', async () => {
    const { ports, job } = await lossyPorts(3);
    const ref = { stage: 'op', index: 0 } as never;
    for (let ver = 1; ver <= 20; ver++) {
      const version = { gen: generation(1), ver };
      expect(await ports.state.putIfAbsent(job, ref, { version, kind: 'd', body: `{"n":${ver}}` })).toBe(true);
      expect(await ports.state.putIfAbsent(job, ref, { version, kind: 'd', body: `{"n":-${ver}}` })).toBe(false);
    }
    expect(lostCount(ports)).toBeGreaterThan(5);
  });
});
