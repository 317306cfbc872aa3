/**
 * The recovery manager (DESIGN §6): starts a job and restores it — from the latest completed
 * checkpoint, a given checkpoint, or a savepoint, optionally at another parallelism.
 *
 * A restore is a sequence of idempotent steps recorded on the job item, so one that crashes
 * half-way is resumed (by the coordinator, or by calling `resume`) and finishes correctly:
 *   1. RESTORING + new generation (conditional on the old one);
 *   2. fence checkpoints: abort pending ones, tombstone allocated ids without an item, so no
 *      checkpoint of the old generation can complete any more;
 *   3. choose the checkpoint and record the choice;
 *   4. rewrite every subtask's working state from its snapshot, with the new generation;
 *      commit the sink transactions the snapshot holds (later ones are never committed);
 *   5. restart sources at their snapshot offsets; 6. RUNNING.
 * A job's first start is a restore from nothing into generation 1. Each generation records
 * its state descriptor (which state its operators hold) before it runs, and a restore checks
 * it against the graph it starts before step 1, so an upgrade that cannot take the state is
 * refused before anything is written (core/state-compatibility.ts).
 *
 * Between any two steps there is nothing but a port call, so a crash between steps is a
 * crash at a port call: that is where the simulation (its instrumented ports) and the tests
 * crash a restore half-way.
 */
import { expectedCount } from '../core/checkpoint-acks.js';
import { JobStateError, RestoreError } from '../core/errors.js';
import type { JobGraph, SourceIo } from '../core/graph.js';
import { commitTransaction } from './sink-commit.js';
import { sourceIo } from './source-io.js';
import { FIRST_GENERATION, checkpointId, generation, parseSubtaskKey, type Generation } from '../core/ids.js';
import { initialJobRecord, type JobRecord, type RestoreRequest } from '../core/manifest.js';
import { chooseCheckpoint, redistribute, regroupByOperator, type SubtaskSnapshot } from '../core/recovery.js';
import { stateKeys } from '../core/wire/state-keys.js';
import { compileTopology, type ParallelismOverrides, type StageTopology } from '../core/topology.js';
import type { Ports } from '../ports/index.js';
import { sendStartPolls } from './control-messages.js';
import { checkUpgrade, writeStateDescriptor } from './state-descriptors.js';
import { updateJob } from './job-records.js';
import { readSnapshot } from './snapshot-reader.js';
import { StatePersistence, type PersistenceOptions } from './state-persistence.js';
import type { SourceState } from './source-task.js';

export interface RestoreCommand {
  readonly request: RestoreRequest;
  readonly reason: string;
  /** New parallelism per stage; stages not named keep theirs. */
  readonly parallelism?: ParallelismOverrides;
  /** Only restore if the job is still at this generation (a failover of that generation). */
  readonly expectGen?: Generation;
  /** Drop the state of operators the job no longer has instead of refusing the restore. */
  readonly allowNonRestoredState?: boolean;
}

export class RecoveryManager {
  private readonly persistence: StatePersistence;
  private readonly io: SourceIo;
  /** Restores that reached RUNNING, by what they started from. */
  /** Restores done, by where they started; and snapshot objects read, of which deltas of a chain. */
  readonly stats = { fromCheckpoint: 0, fromEmpty: 0, snapshotObjects: 0, chainedObjects: 0 };

  constructor(
    private readonly graph: JobGraph,
    private readonly ports: Ports,
    options: { persistence?: PersistenceOptions; nonce?: () => string } = {},
  ) {
    this.persistence = new StatePersistence(graph.name, ports.state, ports.blobs, options.persistence, options.nonce);
    this.io = sourceIo(ports, graph.name);
  }

  /** Submits the job: creates its job item and starts generation 1; resumes an unfinished start. */
  async start(): Promise<JobRecord> {
    const { manifest, clock } = this.ports;
    const existing = await manifest.getJob(this.graph.name);
    if (!existing) {
      const record: JobRecord = {
        ...initialJobRecord(this.graph.name, FIRST_GENERATION),
        ...(this.ports.blobs.bucket ? { bucket: this.ports.blobs.bucket } : {}),
        restore: {
          gen: FIRST_GENERATION,
          request: { kind: 'latest' },
          previous: { gen: generation(0), base: null },
          from: { kind: 'empty' },
          parallelism: {},
          startedAt: clock.now(),
          reason: 'job submitted',
        },
      };
      await manifest.putJob(record, null);
    }
    return (await this.resume())!;
  }

  /** Whether this graph can take the state `request` would restore now (see `checkUpgrade`): its notes, or a StateCompatibilityError. */
  checkCompatibility(request: RestoreRequest, options: { allowNonRestoredState?: boolean } = {}): Promise<readonly string[]> {
    return checkUpgrade(this.ports, this.graph, request, options);
  }

  async restore(command: RestoreCommand): Promise<JobRecord | null> {
    const now = this.ports.clock.now();
    if (command.parallelism) compileTopology(this.graph, command.parallelism); // validates names and bounds
    // Before anything is written: a restore asked for (`tidemark restore`, perhaps with changed
    // code) must be able to take the state. Not a failover (`expectGen`): it restores the code
    // its generation runs, whose own restore was checked, and perhaps allowed to drop state
    // (--allow-non-restored-state) that the generation's base checkpoint still holds.
    if (command.expectGen === undefined) {
      await this.checkCompatibility(command.request, command.allowNonRestoredState === undefined ? {} : { allowNonRestoredState: command.allowNonRestoredState });
    }
    const bumped = await updateJob(this.ports.manifest, this.graph.name, (j) => {
      if (j.status === 'RESTORING') return null;
      if (command.expectGen !== undefined && j.gen !== command.expectGen) return null;
      const gen = generation(j.gen + 1);
      return {
        ...j,
        status: 'RESTORING',
        gen,
        failover: null,
        savepointRequest: null,
        stopping: null,
        sourcesFinished: [],
        detail: null,
        restore: {
          gen,
          request: command.request,
          previous: j.lineage,
          from: null,
          parallelism: { ...j.parallelism, ...command.parallelism },
          startedAt: now,
          reason: command.reason,
        },
      };
    });
    if (!bumped) {
      const job = await this.ports.manifest.getJob(this.graph.name);
      if (!job) throw new JobStateError(`job ${this.graph.name} was never started`);
      return job.status === 'RESTORING' ? this.resume() : job;
    }
    return this.resume();
  }

  /** Runs the remaining steps of the restore recorded on the job item (idempotent). */
  async resume(): Promise<JobRecord | null> {
    const { manifest } = this.ports;
    const name = this.graph.name;
    let job = await manifest.getJob(name);
    if (!job || job.status !== 'RESTORING' || !job.restore) return job;
    const restore = job.restore;
    try {
      if (restore.from === null) {
        await this.fenceCheckpoints(job);
        const chosen = chooseCheckpoint(restore.request, await manifest.listCheckpoints(name), restore.previous);
        const from = chosen ? ({ kind: 'checkpoint', checkpoint: chosen.id } as const) : ({ kind: 'empty' } as const);
        job = await updateJob(manifest, name, (j) =>
          j.restore?.gen === restore.gen && j.restore.from === null ? { ...j, restore: { ...j.restore, from } } : null,
        );
        // A write whose response was lost is read back (updateJob), with what landed on top:
        // another resumer (a coordinator tick) may have finished this restore meanwhile.
        if (job?.restore?.gen !== restore.gen) return manifest.getJob(name);
      }
      const { from, parallelism, gen } = job.restore!;
      const topology = compileTopology(this.graph, parallelism);
      // The generation's state descriptor, before it can take a checkpoint (it is RUNNING only
      // after this): every checkpoint of the generation is taken by this graph.
      await writeStateDescriptor(this.ports, this.graph, gen);
      const snapshots = from!.kind === 'checkpoint' ? regroupByOperator(await this.readSnapshots(from!.checkpoint), topology) : new Map<string, SubtaskSnapshot[]>();
      const sources = new Map<string, SourceState>();
      for (const stage of topology.stages) {
        await this.restoreStage(stage, snapshots.get(stage.id), gen, parallelism, sources);
      }
      await sendStartPolls(this.ports, topology, gen, async (stage, index) => {
        const head = stage.operators[0]!.spec;
        if (head.kind !== 'source') return { round: 0, limits: undefined };
        const restored = sources.get(`${stage.id}/${index}`);
        const offset = restored ? restored.offset : head.reader.start(index, stage.parallelism);
        const limits = head.reader.limits ? await head.reader.limits(this.io, index, stage.parallelism, offset) : undefined;
        return { round: restored?.round ?? 0, limits };
      });
      const done = await updateJob(manifest, name, (j) =>
        j.status === 'RESTORING' && j.gen === gen
          ? {
              ...j,
              status: 'RUNNING',
              restore: null,
              parallelism,
              // Like Flink, the first checkpoint of a run comes one interval after it starts.
              lastTriggerAt: this.ports.clock.now(),
              runningSince: this.ports.clock.now(),
              lineage: { gen, base: from!.kind === 'checkpoint' ? from!.checkpoint : null },
              detail: `restored ${from!.kind === 'checkpoint' ? `from checkpoint ${from!.checkpoint}` : 'empty'}: ${restore.reason}`,
            }
          : null,
      );
      if (done) this.stats[from!.kind === 'checkpoint' ? 'fromCheckpoint' : 'fromEmpty']++;
      return done;
    } catch (e) {
      if (!(e instanceof RestoreError)) throw e;
      return updateJob(manifest, name, (j) =>
        j.status === 'RESTORING' && j.gen === restore.gen ? { ...j, status: 'FAILED', restore: null, detail: e.message } : null,
      );
    }
  }

  /** No checkpoint of the old generation may complete once we choose what to restore. */
  private async fenceCheckpoints(job: JobRecord): Promise<void> {
    const { manifest, clock } = this.ports;
    const items = await manifest.listCheckpoints(this.graph.name);
    for (const cp of items) {
      if (cp.status === 'PENDING') await manifest.abort(this.graph.name, cp.id, 'JOB_RESTORE', clock.now());
    }
    const highest = items.reduce((m, c) => Math.max(m, c.id), 0);
    for (let id = highest + 1; id < job.nextCheckpointId; id++) {
      await manifest.abort(this.graph.name, checkpointId(id), 'JOB_RESTORE', clock.now(), { gen: job.gen - 1 });
    }
  }

  private async readSnapshots(cp: number): Promise<Map<string, SubtaskSnapshot[]>> {
    const record = await this.ports.manifest.getCheckpoint(this.graph.name, checkpointId(cp));
    if (!record || record.status !== 'COMPLETED') throw new RestoreError(`checkpoint ${cp} is no longer available`);
    const byStage = new Map<string, SubtaskSnapshot[]>();
    const acks = await this.ports.manifest.listAcks(this.graph.name, checkpointId(cp));
    const missing = expectedCount(record) - Object.keys(acks).length;
    if (missing !== 0) throw new RestoreError(`checkpoint ${cp} lacks the acknowledgements of ${missing} subtasks`);
    await Promise.all(
      Object.entries(acks).map(async ([subtask, ack]) => {
        const read = await readSnapshot(this.ports.blobs, this.graph.name, ack.key, cp);
        this.stats.snapshotObjects += read.objects;
        this.stats.chainedObjects += read.objects - 1;
        const stage = parseSubtaskKey(subtask).stage;
        let list = byStage.get(stage);
        if (!list) byStage.set(stage, (list = []));
        list.push(read.snapshot);
      }),
    );
    return byStage;
  }

  private async restoreStage(
    stage: StageTopology,
    snapshots: SubtaskSnapshot[] | undefined,
    gen: Generation,
    parallelism: ParallelismOverrides,
    sources: Map<string, SourceState>,
  ): Promise<void> {
    // No snapshot: every operator of the stage is new to the checkpoint, and starts empty.
    const plan = redistribute(stage, snapshots ?? [], this.graph.maxParallelism);
    // The snapshot's staged transactions belong to a completed checkpoint: commit them (in
    // checkpoint order, so a key-value sink ends with the latest value).
    const transactions = [...plan.transactions].sort((a, b) => a.checkpoint - b.checkpoint || a.subtask - b.subtask);
    for (const t of transactions) await commitTransaction(this.ports, this.graph, t);
    await Promise.all(
      plan.entries.map((entries, index) => {
        const source = entries.get(stateKeys.source(stage.id)) as SourceState | undefined;
        if (source) sources.set(`${stage.id}/${index}`, source);
        entries.set(stateKeys.topology, parallelism);
        return this.persistence.writeBase({ stage: stage.id, index }, { gen, ver: 0 }, entries);
      }),
    );
  }
}
