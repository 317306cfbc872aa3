/**
 * The exactly-once side of a subtask's sinks (DESIGN §5.5): records reaching a sink are
 * staged after each input envelope as an immutable part named after that input; at a
 * barrier the parts are sealed into the checkpoint's transaction (part of the snapshot); a
 * `commit` for a completed checkpoint commits every sealed transaction up to it and records
 * in the manifest that this subtask did (a job is FINISHED only after that). A print
 * sink (at-least-once) writes its records as they come instead.
 */
import type { CommitEnvelope } from '../core/wire/envelope.js';
import { InvariantError } from '../core/errors.js';
import type { JobGraph } from '../core/graph.js';
import { checkpointId, type SubtaskRef } from '../core/ids.js';
import { parseStateKey, stateKeys, type SinkTransactionEntry } from '../core/wire/state-keys.js';
import { blobKeys } from '../core/wire/storage-keys.js';
import type { StageTopology } from '../core/topology.js';
import type { EffectLog } from '../core/effects.js';
import type { WorkingState } from './working-state.js';

export class SinkStaging {
  /** Exactly-once sinks of the stage's chain. */
  readonly sinks: string[];
  private readonly printers: Map<string, string>;
  private readonly pending = new Map<string, unknown[]>();

  constructor(
    private readonly graph: JobGraph,
    stage: StageTopology,
    private readonly ref: SubtaskRef,
    private readonly ws: WorkingState,
    private readonly effects: EffectLog,
  ) {
    this.sinks = stage.operators.filter((o) => o.spec.kind === 'sink' && o.spec.sink.guarantee === 'exactly-once').map((o) => o.name);
    this.printers = new Map(
      stage.operators.flatMap((o) => (o.spec.kind === 'sink' && o.spec.sink.kind === 'print' ? [[o.name as string, o.spec.sink.prefix] as const] : [])),
    );
  }

  /** A record reached sink `op`. */
  add(op: string, value: unknown): void {
    const print = this.printers.get(op);
    if (print !== undefined) {
      this.effects.add({ kind: 'print', line: `${print}${JSON.stringify(value)}` });
      return;
    }
    let list = this.pending.get(op);
    if (!list) this.pending.set(op, (list = []));
    list.push(value);
  }

  /** End of an input envelope: what its records produced becomes a part named after it. */
  flush(part: string): void {
    for (const [op, values] of this.pending) {
      if (values.length === 0) continue;
      this.stage(op, part, JSON.stringify(values));
      this.pending.set(op, []);
    }
  }

  /** Writes a staged part (a JSON array of records) named after the input it came from. */
  stage(op: string, part: string, recordsJson: string): void {
    const key = blobKeys.stagedPart(this.graph.name, op, this.ref.index, this.ws.gen, part);
    this.effects.add({ kind: 'blob', key, body: recordsJson });
    this.ws.set(stateKeys.sinkPart(op, part), key);
  }

  /** At barrier `checkpoint`: the parts staged since the last one become its transaction. */
  seal(checkpoint: number): void {
    for (const op of this.sinks) {
      const partKeys = this.ws.keysWithPrefix(stateKeys.sinkPartPrefix(op));
      if (partKeys.length === 0) continue;
      const txn: SinkTransactionEntry = { parts: partKeys.map((k) => this.ws.get<string>(k)!) };
      this.ws.set(stateKeys.sinkTxn(op, checkpoint, this.ref.index), txn);
      for (const k of partKeys) this.ws.delete(k);
    }
  }

  /** Commits every sealed transaction up to the completed checkpoint; when the job ends
   *  with it, reports that in the manifest too (the job ends once every sink did). */
  commit(env: CommitEnvelope): void {
    this.commitUpTo(env.cp);
    if (env.last) this.effects.add({ kind: 'committed', checkpoint: checkpointId(env.cp) });
  }

  private commitUpTo(checkpoint: number): void {
    for (const op of this.sinks) {
      for (const key of this.ws.keysWithPrefix(stateKeys.sinkTxnPrefix(op))) {
        const entry = parseStateKey(key);
        if (entry.kind !== 'sink-txn') throw new InvariantError(`not a sink transaction key: ${key}`);
        if (entry.checkpoint > checkpoint) continue;
        const txn = this.ws.get<SinkTransactionEntry>(key)!;
        this.effects.add({ kind: 'commit', txn: { op, checkpoint: entry.checkpoint, subtask: entry.subtask, parts: txn.parts } });
        this.ws.delete(key);
      }
    }
  }
}
