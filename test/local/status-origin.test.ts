/**
 * `tidemark status` says where the running generation came from, by the savepoint's name,
 * also once the generation has taken more checkpoints than the history window lists (the
 * upgrade test hit this on a loaded machine: "checkpoint 16" for "savepoint v1-final").
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, memoryPorts } from '../../lib/adapters/memory/index.js';
import type { AwsPorts } from '../../lib/adapters/aws/index.js';
import { stagesOf } from '../../lib/core/checkpoint-acks.js';
import { CHECKPOINT_HISTORY } from '../../lib/core/coordinator.js';
import { checkpointId, generation, jobName, type SubtaskKey } from '../../lib/core/ids.js';
import { initialJobRecord, newCheckpointRecord } from '../../lib/core/manifest.js';
import { statusCommand } from '../../local/ops-commands.js';
import type { Target } from '../../local/target.js';

describe('status of a generation restored from a savepoint', () => {
  it('names the savepoint after more than the history window of checkpoints', async () => {
    const ports = memoryPorts(new ManualClock(0));
    const job = jobName('origin-job');
    const subtask = 'src/0' as SubtaskKey;
    const complete = async (id: number, gen: number, savepoint: string | null) => {
      await ports.manifest.createCheckpoint(job, newCheckpointRecord({ id: checkpointId(id), gen: generation(gen), stages: stagesOf([subtask]), now: id, savepoint: savepoint ? { name: savepoint, stop: true } : null, activity: 0 }));
      const outcome = await ports.manifest.ack(job, checkpointId(id), subtask, { key: `k${id}`, bytes: 1, alignmentMs: 0, finished: false, progress: id, at: id }, id);
      expect(outcome.kind).toBe('completed');
    };
    await complete(3, 1, 'v1-final');
    const later = CHECKPOINT_HISTORY + 2;
    for (let id = 4; id < 4 + later; id++) await complete(id, 2, null);
    const record = { ...initialJobRecord(job, generation(2)), status: 'RUNNING' as const, lineage: { gen: generation(2), base: checkpointId(3) }, nextCheckpointId: 4 + later };
    expect(await ports.manifest.putJob(record, null)).toBe(true);
    const target: Target = {
      where: 'memory',
      jobs: async () => [job],
      portsFor: () => ports as unknown as AwsPorts,
      locate: (_job, key) => key,
      prepare: async () => {},
    };
    const lines: string[] = [];
    await statusCommand(target, job, { json: true, out: (l) => lines.push(l) });
    expect(JSON.parse(lines[0]!)).toMatchObject({ origin: 'savepoint v1-final (checkpoint 3)', generation: 2 });
  });
});
