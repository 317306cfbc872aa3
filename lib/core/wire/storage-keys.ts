/**
 * Every S3 key and DynamoDB key the job uses is built here and nowhere else. Numbers are
 * zero-padded so lexicographic order (S3 listings, DynamoDB sort keys) is numeric order.
 *
 * Blob (S3) layout under `jobs/<job>/`:
 *   checkpoints/<cp>/<stage>/<subtask>.json      immutable operator snapshot
 *   generations/<gen>/state-descriptor.json      which state each operator of that generation's
 *                                                job holds (every checkpoint of the generation)
 *   state/<stage>/<subtask>/<gen>-<ver>-<b|d>-<nonce>  spilled working state (too big for an item)
 *   sinks/<sink>/staged/<subtask>/<gen>/<part>    staged sink output, not visible to readers
 *   sinks/<sink>/committed/<cp>/<subtask>.json    commit marker: the parts of one transaction
 *   <prefix><cp>-<subtask>.ndjson                 an S3 sink's committed transaction (prefix: the sink's)
 *   <prefix>…                                     an S3 source's input objects (prefix: the source's)
 *
 * Table (DynamoDB) layout, one table per job:
 *   pk job#<job>                      sk job            the job item (status, generation, ids)
 *   pk job#<job>                      sk cp#<cp>        one manifest item per checkpoint (fixed size)
 *   pk job#<job>                      sk ack#<cp>#<stage>/<subtask>  one item per acknowledgement
 *   pk state#<job>#<stage>#<subtask>  sk s#<gen>#<ver>#<b|d>  working state: bases and deltas
 *   pk log#<job>#<log>#<partition>    sk o#<offset>      a log source's records
 *   pk out#<job>#<sink>               sk <record key>    a DynamoDB sink's rows
 *
 * and in the bucket, beside the above:
 *   dead-letters/<source>/<where>.json   input a source could not read (bad line), with where from
 *   dead-letters/<operator>/r-<digest>.json  a record a user function threw on (onUserError
 *                                        'dead-letter'); the digest is of the record, so every
 *                                        replay, restore or rescale rewrites the same object
 */
import type { CheckpointId, Generation, JobName, SubtaskKey, SubtaskRef } from '../ids.js';

const pad = (n: number, width: number) => String(n).padStart(width, '0');
const CP_WIDTH = 12;
const GEN_WIDTH = 8;
const VER_WIDTH = 12;
const OFFSET_WIDTH = 15;

export const blobKeys = {
  jobPrefix: (job: JobName) => `jobs/${job}/`,
  /** An object a user names relative to the job's area: an S3 source's input, an S3 sink's prefix. */
  jobObject: (job: JobName, relative: string) => `jobs/${job}/${relative}`,
  /** The inverse of `jobObject` for a key under the job's area. */
  relativeToJob: (job: JobName, key: string) => key.slice(`jobs/${job}/`.length),
  checkpointPrefix: (job: JobName, cp: CheckpointId) => `jobs/${job}/checkpoints/${pad(cp, CP_WIDTH)}/`,
  snapshot: (job: JobName, cp: CheckpointId, ref: SubtaskRef) =>
    `jobs/${job}/checkpoints/${pad(cp, CP_WIDTH)}/${ref.stage}/${ref.index}.json`,
  /** The state descriptor of generation `gen` (wire/state-descriptor.ts): the one of every
   *  checkpoint that generation takes. Outside `checkpoints/`, so retention never deletes it. */
  stateDescriptor: (job: JobName, gen: Generation) => `jobs/${job}/generations/${pad(gen, GEN_WIDTH)}/state-descriptor.json`,
  spilledState: (job: JobName, ref: SubtaskRef, version: StateVersion, kind: 'b' | 'd', nonce: string) =>
    `jobs/${job}/state/${ref.stage}/${ref.index}/${pad(version.gen, GEN_WIDTH)}-${pad(version.ver, VER_WIDTH)}-${kind}-${nonce}`,
  stagedPrefix: (job: JobName, sink: string) => `jobs/${job}/sinks/${sink}/staged/`,
  stagedPart: (job: JobName, sink: string, subtask: number, gen: Generation, part: string) =>
    `jobs/${job}/sinks/${sink}/staged/${subtask}/${pad(gen, GEN_WIDTH)}/${part}`,
  committedPrefix: (job: JobName, sink: string) => `jobs/${job}/sinks/${sink}/committed/`,
  /** Every dead letter of the job, of sources and operators alike. */
  deadLettersPrefix: (job: JobName) => `jobs/${job}/dead-letters/`,
  deadLetterPrefix: (job: JobName, source: string) => `jobs/${job}/dead-letters/${source}/`,
  deadLetter: (job: JobName, source: string, where: string) => `jobs/${job}/dead-letters/${source}/${encodeURIComponent(where)}.json`,
  /** `digest`: hex digest of the record the operator's user function threw on. */
  recordDeadLetter: (job: JobName, operator: string, digest: string) => `jobs/${job}/dead-letters/${operator}/r-${digest}.json`,
  commitMarker: (job: JobName, sink: string, cp: CheckpointId, subtask: number) =>
    `jobs/${job}/sinks/${sink}/committed/${pad(cp, CP_WIDTH)}/${subtask}.json`,
  /** An S3 sink's committed transaction: `jobs/<job>/<prefix><checkpoint, 12 digits>-<subtask>.ndjson`. */
  s3SinkObject: (job: JobName, prefix: string, cp: CheckpointId | number, subtask: number, extension = 'ndjson') =>
    `jobs/${job}/${prefix}${pad(cp, CP_WIDTH)}-${subtask}.${extension}`,
};

/**
 * Keys relative to a job's area (what a source's `io.listObjects` lists): a Kinesis shard
 * some subtask has read to its end, so that the subtask owning a child may start it.
 */
export const jobAreaKeys = {
  finishedShardsPrefix: (stream: string) => `kinesis/${encodeURIComponent(stream)}/finished-shards/`,
  finishedShard: (stream: string, shard: string) => `kinesis/${encodeURIComponent(stream)}/finished-shards/${encodeURIComponent(shard)}`,
  /** The shard a `finishedShard` key names. */
  shardOfFinished: (stream: string, relative: string) => decodeURIComponent(relative.slice(jobAreaKeys.finishedShardsPrefix(stream).length)),
};

/** The checkpoint and subtask of an S3 sink's object (see `blobKeys.s3SinkObject`) with
 *  `prefix`; null for any other key. */
export function parseS3SinkObject(key: string, job: JobName, prefix: string): { checkpoint: CheckpointId; subtask: number } | null {
  const head = blobKeys.jobObject(job, prefix);
  if (!key.startsWith(head)) return null;
  const m = /^(\d{12,})-(\d+)\.(?:ndjson|csv|parquet)$/.exec(key.slice(head.length));
  return m ? { checkpoint: Number(m[1]) as CheckpointId, subtask: Number(m[2]) } : null;
}

/** Names of staged sink parts (the last segment of `blobKeys.stagedPart`, the key of
 *  `stateKeys.sinkPart`): after the input whose records they hold, so a retried input
 *  rewrites the same part. */
export const partNames = {
  /** The records of envelope `seq` on input `channel`. */
  channel: (channel: string, seq: number) => `${channel}@${seq}`,
  /** The records of a source's poll of `round`. */
  poll: (round: number) => `poll@${round}`,
  /** What processing-time timers emitted at a source's trigger of checkpoint `cp`. */
  trigger: (cp: number) => `trigger@${cp}`,
};

/** The parts of a staged sink part's key (see `blobKeys.stagedPart`); null for any other key. */
export function parseStagedPart(key: string): { sink: string; subtask: number; gen: Generation; part: string } | null {
  const m = /^jobs\/[^/]+\/sinks\/([^/]+)\/staged\/(\d+)\/(\d+)\/(.+)$/.exec(key);
  return m ? { sink: m[1]!, subtask: Number(m[2]), gen: Number(m[3]) as Generation, part: m[4]! } : null;
}

/** The checkpoint of a key under a checkpoint's prefix (see `blobKeys.checkpointPrefix`); null otherwise. */
export function parseCheckpointObject(key: string): { checkpoint: CheckpointId } | null {
  const m = /^jobs\/[^/]+\/checkpoints\/(\d+)\//.exec(key);
  return m ? { checkpoint: Number(m[1]) as CheckpointId } : null;
}

/** The sink and checkpoint of a commit marker's key (see `blobKeys.commitMarker`); null otherwise. */
export function parseCommitMarker(key: string): { sink: string; checkpoint: CheckpointId; subtask: number } | null {
  const m = /^jobs\/[^/]+\/sinks\/([^/]+)\/committed\/(\d+)\/(\d+)\.json$/.exec(key);
  return m ? { sink: m[1]!, checkpoint: Number(m[2]) as CheckpointId, subtask: Number(m[3]) } : null;
}

export const tableKeys = {
  jobPk: (job: JobName) => `job#${job}`,
  jobSk: 'job',
  checkpointSk: (cp: CheckpointId) => `cp#${pad(cp, CP_WIDTH)}`,
  checkpointSkPrefix: 'cp#',
  checkpointIdOfSk: (sk: string) => Number(sk.slice(3)) as CheckpointId,
  /** A subtask's acknowledgement of checkpoint `cp` (see wire/manifest-items.ts). */
  ackSk: (cp: CheckpointId, subtask: SubtaskKey) => `ack#${pad(cp, CP_WIDTH)}#${subtask}`,
  ackSkPrefix: (cp: CheckpointId) => `ack#${pad(cp, CP_WIDTH)}#`,
  subtaskOfAckSk: (sk: string) => sk.slice(`ack#`.length + CP_WIDTH + 1) as SubtaskKey,
  statePk: (job: JobName, ref: SubtaskRef) => `state#${job}#${ref.stage}#${ref.index}`,
  /** Every `statePk` of the job starts so (and `outputPkPrefix`, `logPkPrefix` alike). */
  statePkPrefix: (job: JobName) => `state#${job}#`,
  logPk: (job: JobName, log: string, partition: number) => `log#${job}#${log}#${partition}`,
  logPkPrefix: (job: JobName, log: string) => `log#${job}#${log}#`,
  logSk: (offset: number) => `o#${pad(offset, OFFSET_WIDTH)}`,
  logOffsetOfSk: (sk: string) => Number(sk.slice(2)),
  outputPk: (job: JobName, sink: string) => `out#${job}#${sink}`,
  outputPkPrefix: (job: JobName) => `out#${job}#`,
  stateSk: (version: StateVersion, kind: 'b' | 'd') =>
    `s#${pad(version.gen, GEN_WIDTH)}#${pad(version.ver, VER_WIDTH)}#${kind}`,
  stateSkPrefix: 's#',
  parseStateSk(sk: string): { version: StateVersion; kind: 'b' | 'd' } {
    const [, gen, ver, kind] = sk.split('#');
    return { version: { gen: Number(gen) as Generation, ver: Number(ver) }, kind: kind as 'b' | 'd' };
  },
};

/** Position of working state: generation first, then the commit count within it. */
export interface StateVersion {
  readonly gen: Generation;
  readonly ver: number;
}

export const compareVersions = (a: StateVersion, b: StateVersion) => a.gen - b.gen || a.ver - b.ver;
export const versionText = (v: StateVersion) => `${v.gen}.${v.ver}`;
