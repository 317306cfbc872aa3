/**
 * Contracts of the blob, working-state and manifest ports: the conditional writes every
 * exactly-once argument rests on. Run against memory adapters here, AWS adapters later.
 */
import { stagesOf } from '../../lib/core/checkpoint-acks.js';
import { expect, it } from 'vitest';
import { checkpointId, generation, jobName, type SubtaskKey } from '../../lib/core/ids.js';
import { initialJobRecord, newCheckpointRecord, type AckInfo } from '../../lib/core/manifest.js';
import type { BlobStore } from '../../lib/ports/blob-store.js';
import type { ManifestStore } from '../../lib/ports/manifest-store.js';
import type { StateStore } from '../../lib/ports/state-store.js';

let unique = 0;
const fresh = (prefix: string) => `${prefix}${Date.now().toString(36)}${++unique}`;

export function blobStoreContract(setup: () => Promise<BlobStore>): void {
  it('put-if-absent creates once; of concurrent writers exactly one wins', async () => {
    const blobs = await setup();
    const key = `${fresh('t')}/a`;
    const results = await Promise.all([1, 2, 3].map((n) => blobs.put(key, `v${n}`, { ifAbsent: true })));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true) + 1;
    expect(await blobs.get(key)).toBe(`v${winner}`);
    expect(await blobs.put(key, 'other', { ifAbsent: true })).toBe(false);
    expect(await blobs.get(key)).toBe(`v${winner}`);
  });

  it('lists a prefix in order, reads missing keys as null, deletes', async () => {
    const blobs = await setup();
    const p = `${fresh('t')}/`;
    for (const k of ['b', 'a', 'c/d']) await blobs.put(p + k, k);
    expect(await blobs.list(p)).toEqual([`${p}a`, `${p}b`, `${p}c/d`]);
    expect(await blobs.get(`${p}zz`)).toBeNull();
    await blobs.delete([`${p}a`, `${p}c/d`]);
    expect(await blobs.list(p)).toEqual([`${p}b`]);
  });

  it('keeps bytes as bytes (every value 0–255) and text as UTF-8, whichever way it is read', async () => {
    const blobs = await setup();
    const p = `${fresh('t')}/`;
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    await blobs.put(`${p}bin`, bytes);
    expect([...((await blobs.getBytes(`${p}bin`)) ?? [])]).toEqual([...bytes]);
    await blobs.put(`${p}text`, 'tide ≈ mark');
    expect(await blobs.get(`${p}text`)).toBe('tide ≈ mark');
    expect(new TextDecoder().decode((await blobs.getBytes(`${p}text`)) ?? new Uint8Array())).toBe('tide ≈ mark');
    expect(await blobs.getBytes(`${p}none`)).toBeNull();
  });
}

export function stateStoreContract(setup: () => Promise<StateStore>): void {
  const ref = (n: number) => ({ stage: 'st' as never, index: n });
  it('orders items by version, reads newest first down to the newest base', async () => {
    const store = await setup();
    const job = fresh('j');
    const v = (gen: number, ver: number) => ({ gen: generation(gen), ver });
    await store.put(job, ref(0), { version: v(1, 0), kind: 'b', body: 'b0' });
    for (let i = 1; i <= 3; i++) expect(await store.putIfAbsent(job, ref(0), { version: v(1, i), kind: 'd', body: `d${i}` })).toBe(true);
    await store.put(job, ref(0), { version: v(1, 2), kind: 'b', body: 'b2' });
    expect((await store.readToBase(job, ref(0))).map((i) => i.body)).toEqual(['d3', 'd2', 'b2']);
    expect(await store.latest(job, ref(0))).toEqual({ version: v(1, 3), kind: 'd' });
    // a new generation's base outranks every older item
    await store.put(job, ref(0), { version: v(2, 0), kind: 'b', body: 'g2' });
    await store.putIfAbsent(job, ref(0), { version: v(1, 4), kind: 'd', body: 'zombie' });
    expect((await store.readToBase(job, ref(0))).map((i) => i.body)).toEqual(['g2']);
    await store.deleteBefore(job, ref(0), v(2, 0));
    expect((await store.readToBase(job, ref(0))).map((i) => i.body)).toEqual(['g2']);
    expect(await store.latest(job, ref(1))).toBeNull();
  });

  it('a commit is conditional: of two writers of the same version exactly one wins', async () => {
    const store = await setup();
    const job = fresh('j');
    const item = (body: string) => ({ version: { gen: generation(1), ver: 7 }, kind: 'd' as const, body });
    const results = await Promise.all([store.putIfAbsent(job, ref(0), item('x')), store.putIfAbsent(job, ref(0), item('y'))]);
    expect(results.sort()).toEqual([false, true]);
  });
}

export function manifestContract(setup: () => Promise<ManifestStore>): void {
  const ack = (progress: number): AckInfo => ({ key: 'k', bytes: 1, alignmentMs: 0, finished: false, progress, at: 0 });

  it('job item writes are conditional on the version read', async () => {
    const m = await setup();
    const job = jobName(fresh('j'));
    const rec = initialJobRecord(job, generation(1));
    expect(await m.putJob(rec, null)).toBe(true);
    expect(await m.putJob(rec, null)).toBe(false);
    const read = (await m.getJob(job))!;
    expect(await m.putJob({ ...read, status: 'RUNNING' }, read.version)).toBe(true);
    expect(await m.putJob({ ...read, status: 'FAILED' }, read.version)).toBe(false);
    expect((await m.getJob(job))!.status).toBe('RUNNING');
  });

  it('acks complete a checkpoint exactly once even when they race', async () => {
    const m = await setup();
    const job = fresh('j');
    const expected = Array.from({ length: 6 }, (_, i) => `s/${i}` as SubtaskKey);
    const cp = newCheckpointRecord({ id: checkpointId(1), gen: generation(1), stages: stagesOf(expected), now: 0, savepoint: null, activity: 0 });
    expect(await m.createCheckpoint(job, cp)).toBe(true);
    expect(await m.createCheckpoint(job, cp)).toBe(false);
    const outcomes = await Promise.all([...expected, ...expected].map((s, i) => m.ack(job, checkpointId(1), s, ack(i), 10)));
    expect(outcomes.filter((o) => o.kind === 'completed')).toHaveLength(1);
    // Each subtask counted once: one of its two acks lands, the other is a duplicate. The
    // completing write may be a duplicate's (it checks completion too, as a retry after a
    // crash must), and then all six first acks report `acked`.
    const duplicates = outcomes.filter((o) => o.kind === 'duplicate').length;
    expect([5, 6]).toContain(duplicates);
    expect(outcomes.filter((o) => o.kind === 'acked')).toHaveLength(11 - duplicates);
    expect(await m.getCheckpoint(job, checkpointId(1))).toMatchObject({ status: 'COMPLETED', acked: 6 });
  });

  it('300 subtasks acking at once: each counted once, completed exactly once, every ack listed, deleted with the checkpoint', async () => {
    const m = await setup();
    const job = fresh('j');
    const expected = [...Array.from({ length: 200 }, (_, i) => `src/${i}` as SubtaskKey), ...Array.from({ length: 100 }, (_, i) => `sink/${i}` as SubtaskKey)];
    const id = checkpointId(7);
    await m.createCheckpoint(job, newCheckpointRecord({ id, gen: generation(1), stages: stagesOf(expected), now: 0, savepoint: null, activity: 0 }));
    // A stranger: a subtask beyond its stage's parallelism, or of a stage the checkpoint lacks.
    expect(await m.ack(job, id, 'sink/100' as SubtaskKey, ack(1), 5)).toEqual({ kind: 'rejected', status: 'PENDING' });
    expect(await m.ack(job, id, 'other/0' as SubtaskKey, ack(1), 5)).toEqual({ kind: 'rejected', status: 'PENDING' });
    const outcomes = await Promise.all([...expected, ...expected.slice(0, 20)].map((s, i) => m.ack(job, id, s, { ...ack(i % 300), finished: true }, 10)));
    expect(outcomes.filter((o) => o.kind === 'completed')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'duplicate')).toHaveLength(20);
    expect(outcomes.filter((o) => o.kind === 'acked')).toHaveLength(299);
    const record = (await m.getCheckpoint(job, id))!;
    expect(record).toMatchObject({ status: 'COMPLETED', acked: 300, finished: 300, bytes: 300, progress: (299 * 300) / 2 });
    expect(Object.keys(await m.listAcks(job, id)).sort()).toEqual([...expected].sort());
    await m.markCommitted(job, id, 'sink/1' as SubtaskKey);
    await m.markCommitted(job, id, 'sink/0' as SubtaskKey);
    await m.markCommitted(job, id, 'sink/1' as SubtaskKey);
    expect((await m.getCheckpoint(job, id))!.committed).toEqual(['sink/0', 'sink/1']);
    await m.deleteCheckpoint(job, id);
    expect(await m.getCheckpoint(job, id)).toBeNull();
    expect(await m.listAcks(job, id)).toEqual({});
  });

  it('an abort racing the acks wins cleanly: either it completed or it aborted, never both', async () => {
    const m = await setup();
    const job = fresh('j');
    const expected = Array.from({ length: 20 }, (_, i) => `s/${i}` as SubtaskKey);
    const id = checkpointId(8);
    await m.createCheckpoint(job, newCheckpointRecord({ id, gen: generation(1), stages: stagesOf(expected), now: 0, savepoint: null, activity: 0 }));
    const [aborted, ...outcomes] = await Promise.all([m.abort(job, id, 'CHECKPOINT_EXPIRED', 5), ...expected.map((s, i) => m.ack(job, id, s, ack(i), 10))]);
    const completed = outcomes.filter((o) => o.kind === 'completed').length;
    const status = (await m.getCheckpoint(job, id))!.status;
    expect([status, completed]).toEqual(aborted ? ['ABORTED', 0] : ['COMPLETED', 1]);
  });

  it('abort only moves PENDING, a tombstone blocks a late creation, acks after abort are rejected', async () => {
    const m = await setup();
    const job = fresh('j');
    const cp = newCheckpointRecord({ id: checkpointId(2), gen: generation(1), stages: { a: 1 }, now: 0, savepoint: null, activity: 0 });
    await m.createCheckpoint(job, cp);
    expect(await m.abort(job, checkpointId(2), 'CHECKPOINT_EXPIRED', 5)).toBe(true);
    expect(await m.abort(job, checkpointId(2), 'CHECKPOINT_EXPIRED', 5)).toBe(false);
    expect(await m.ack(job, checkpointId(2), 'a/0' as SubtaskKey, ack(1), 6)).toEqual({ kind: 'rejected', status: 'ABORTED' });
    expect(await m.abort(job, checkpointId(3), 'JOB_RESTORE', 5, { gen: 1 })).toBe(true);
    expect(await m.createCheckpoint(job, { ...cp, id: checkpointId(3) })).toBe(false);
    expect((await m.listCheckpoints(job)).map((c) => [c.id, c.status])).toEqual([
      [3, 'ABORTED'],
      [2, 'ABORTED'],
    ]);
    await m.mark(job, checkpointId(2), 'notified');
    expect((await m.getCheckpoint(job, checkpointId(2)))!.notified).toBe(true);
    await m.deleteCheckpoint(job, checkpointId(2));
    expect(await m.getCheckpoint(job, checkpointId(2))).toBeNull();
  });

  it('discard moves only COMPLETED to DISCARDED, keeping the figures; acks after it are rejected', async () => {
    const m = await setup();
    const job = fresh('j');
    const cp = newCheckpointRecord({ id: checkpointId(4), gen: generation(1), stages: { a: 1 }, now: 0, savepoint: null, activity: 0 });
    await m.createCheckpoint(job, cp);
    expect(await m.discardCheckpoint(job, checkpointId(4))).toBe(false);
    expect((await m.ack(job, checkpointId(4), 'a/0' as SubtaskKey, ack(1), 6)).kind).toBe('completed');
    expect(await m.discardCheckpoint(job, checkpointId(4))).toBe(true);
    expect(await m.discardCheckpoint(job, checkpointId(4))).toBe(false);
    const discarded = (await m.getCheckpoint(job, checkpointId(4)))!;
    expect(discarded).toMatchObject({ status: 'DISCARDED', completedAt: 6 });
    expect(Object.keys(await m.listAcks(job, checkpointId(4)))).toEqual(['a/0']);
    expect(await m.discardCheckpoint(job, checkpointId(5))).toBe(false);
  });
}
