/**
 * The logical job graph: what the user's pipeline definition compiles to, with types
 * erased, and what must hold of its nodes. Core never calls the user functions it carries;
 * the runtime does.
 */
import type { ShardRead, StreamShard } from './kinesis-shards.js';
import type { CheckpointSettings, RestartStrategy, UserErrorPolicy } from './config.js';
import { ConfigError } from './errors.js';
import type { JobName, OperatorName } from './ids.js';
import type { WatermarkStrategy } from './watermarks.js';
import type { Window, WindowAssigner } from './windows.js';

export type Partitioning =
  | { readonly type: 'forward' }
  | { readonly type: 'rebalance' }
  | { readonly type: 'broadcast' }
  | { readonly type: 'hash'; readonly key: (value: unknown) => unknown };

/** Which output of the upstream operator: its records, the late records a window drops, or a
 *  side output a process function declared (`side:<tag>`, Flink's OutputTag). */
export type OutputPort = 'main' | 'late' | `side:${string}`;

export const sideOutputPort = (tag: string): OutputPort => `side:${tag}`;

export interface OperatorInput {
  readonly from: OperatorName;
  readonly partitioning: Partitioning;
  /** @default 'main' */
  readonly port?: OutputPort;
  /** Which input of a two-input operator (`connect`) this feeds. @default 1 */
  readonly input?: 1 | 2;
}

/** A record as it travels: the value and, when known, its event time in ms. */
export type Emit = (value: unknown, timestamp?: number) => void;

/**
 * Time-to-live of keyed state. In event time: what was written at time t (the record's, or
 * the watermark's when the call has none) is gone once the watermark reaches t + `ms`; in
 * processing time: written at the operator's recorded processing time t, gone once that
 * reaches t + `ms`. Never read back after that, and cleaned up by a timer for its key,
 * without a scan. A map entry and a list element each have their own time, as in Flink.
 */
export interface StateTtl {
  readonly domain: TimeDomain;
  readonly ms: number;
  /** 'read-and-write': a read renews the time too (Flink's OnReadAndWrite). */
  readonly updateOn: 'write' | 'read-and-write';
}

export type StateDeclaration = (
  | { readonly kind: 'value' | 'map' | 'list' }
  /** Operator state only: a list every subtask gets whole on a restore (Flink's union list state). */
  | { readonly kind: 'union' }
  | { readonly kind: 'reducing'; readonly reduce: (a: unknown, b: unknown) => unknown }
  | { readonly kind: 'aggregating'; readonly create: () => unknown; readonly add: (acc: unknown, value: unknown) => unknown; readonly result: (acc: unknown) => unknown }
) & { readonly ttl?: StateTtl };

/** State a keyed `process` function declares; names are the keys of this record. */
export type StateDeclarations = Record<string, StateDeclaration>;

/** Runtime-side handle the keyed process function gets; typed in lib/api. */
export interface ProcessContext {
  readonly key: unknown;
  readonly timestamp: number | undefined;
  readonly state: Record<string, unknown>;
  emit(value: unknown, timestamp?: number): void;
  /** Emits to the side output `tag` (one the function declared). */
  output(tag: string, value: unknown, timestamp?: number): void;
  readonly timerService: TimerService;
  /** The subtask's broadcast states, by name: read-only but in a broadcast record's call. */
  readonly broadcastState: Record<string, unknown>;
  /** In `onTimer`: which clock the firing timer was on (Flink's `ctx.timeDomain()`). */
  readonly timeDomain?: TimeDomain;
}

export type TimeDomain = 'event-time' | 'processing-time';

/**
 * Timers of the current key (Flink's TimerService). Processing time is recorded, not read
 * from a clock: a source stamps what it emits with its poll's time and each checkpoint's
 * barriers carry the time the coordinator triggered it; an operator's processing time is
 * the latest it has received. A redelivered message carries the same time, so it fires the
 * same timers with the same results, and the snapshot keeps the operator's time.
 */
export interface TimerService {
  /** The operator's current event-time watermark. */
  currentWatermark(): number;
  /** `onTimer` runs for the current key once the watermark reaches `time`; one timer per key and time. */
  registerEventTimeTimer(time: number): void;
  deleteEventTimeTimer(time: number): void;
  /** The operator's recorded processing time (ms since the epoch); MIN_SAFE_INTEGER before any. */
  currentProcessingTime(): number;
  /** `onTimer` runs for the current key once processing time reaches `time`, or at the end of
   *  input, whichever comes first; one timer per key and time. */
  registerProcessingTimeTimer(time: number): void;
  deleteProcessingTimeTimer(time: number): void;
}

/** What a source may read besides its own offsets: the job's bucket and its logs. */
export interface SourceIo {
  getObject(key: string): Promise<string | null>;
  /** The object as bytes (a Parquet file). */
  getObjectBytes(key: string): Promise<Uint8Array | null>;
  listObjects(prefix: string): Promise<string[]>;
  readLog(log: string, partition: number, from: number, below: number, max: number): Promise<{ offset: number; value: string }[]>;
  logHead(log: string, partition: number): Promise<number>;
  /** A Kinesis data stream's shards, and one read of a shard (see ports/stream-store.ts). */
  listShards(stream: string): Promise<StreamShard[]>;
  readShard(stream: string, shard: string, after: string | null, max: number): Promise<ShardRead>;
}

/** A source's position: any JSON value (a generator's index, an object and line, log offsets). */
export type SourceOffset = unknown;

/** Where a source's input lives, for tools that load it (`tidemark run` inputs, `tidemark ingest`). */
export type SourceInput =
  | { readonly kind: 'objects'; readonly prefix: string }
  | { readonly kind: 'log'; readonly log: string; readonly partitions: number }
  | { readonly kind: 'stream'; readonly stream: string; readonly shards: number };

export interface SourceReader {
  /** Stable description used in snapshots, so a restore can tell the source changed. */
  readonly kind: string;
  readonly input?: SourceInput;
  /** First offset of a subtask. */
  start(subtask: number, parallelism: number): SourceOffset;
  /**
   * Facts the next read may rely on, fixed when its poll is sent (a log's head, an object
   * listing) and carried in the poll: a read then depends only on (offset, max, limits), so
   * a retried poll reads exactly the same records even if the input grew meanwhile.
   */
  limits?(io: SourceIo, subtask: number, parallelism: number, offset: SourceOffset): Promise<unknown>;
  /** Records of one subtask from `offset`, at most `max`. The same arguments must always
   *  give the same records (replay after restore depends on it). */
  read(subtask: number, parallelism: number, offset: SourceOffset, max: number, io: SourceIo, limits: unknown): SourceBatch | Promise<SourceBatch>;
}

export interface SourceBatch {
  readonly values: unknown[];
  readonly timestamps?: number[];
  readonly next: SourceOffset;
  /** No record will ever follow `next` (bounded sources). */
  readonly finished: boolean;
  /** Input the source could not turn into a record (bad JSON, no timestamp): it goes to the
   *  job's dead-letter output with where it came from, and the job goes on. */
  readonly rejected?: readonly { readonly where: string; readonly text: string; readonly reason: string }[];
  /** Objects to write in the job's area (keys relative to it, empty bodies) with this batch:
   *  facts other subtasks of the source read, such as a Kinesis shard read to its end. */
  readonly markers?: readonly string[];
}

export type SinkGuarantee = 'exactly-once' | 'at-least-once';

/** A column of a CSV or Parquet sink: a field of the records, of one type. */
export type ColumnType = 'string' | 'int' | 'double' | 'boolean' | 'json';
export type Columns = readonly (readonly [name: string, type: ColumnType])[];

/** How an S3 sink writes a transaction's records. @default ndjson */
export type S3Format = { readonly kind: 'ndjson' } | { readonly kind: 'csv' | 'parquet'; readonly columns: Columns };

/**
 * Exactly-once sinks stage their records per checkpoint and commit them when the manifest
 * says the checkpoint COMPLETED (or when a restore finds them in its snapshot); an
 * at-least-once sink writes as records arrive, so a replay may write a record again.
 */
export type SinkSpec =
  /** Staged parts, read back through commit markers (tests, small results). */
  | { readonly kind: 'collect'; readonly guarantee: 'exactly-once' }
  /** One object per transaction under `prefix` in the job's bucket: NDJSON, CSV or Parquet. */
  | { readonly kind: 's3'; readonly guarantee: 'exactly-once'; readonly prefix: string; readonly format?: S3Format }
  /** Upserts by key into the job's table, guarded by the checkpoint id. */
  | { readonly kind: 'dynamodb'; readonly guarantee: 'exactly-once'; readonly key: (record: unknown) => string | number }
  /** Prints each record (to stdout, i.e. CloudWatch Logs on Lambda) as it arrives. */
  | { readonly kind: 'print'; readonly guarantee: 'at-least-once'; readonly prefix: string };

/** What a window does with its records when it fires. */
export type WindowFunction =
  | { readonly kind: 'reduce'; readonly fn: (acc: unknown, value: unknown) => unknown }
  | {
      readonly kind: 'aggregate';
      readonly create: () => unknown;
      readonly add: (acc: unknown, value: unknown) => unknown;
      /** Needed by session windows, which merge. */
      readonly merge?: (a: unknown, b: unknown) => unknown;
      readonly result: (acc: unknown, key: unknown, window: Window) => unknown;
    }
  | {
      readonly kind: 'process';
      readonly fn: (key: unknown, window: Window, elements: unknown[], emit: (value: unknown) => void) => void;
    };

export type OperatorSpec =
  | {
      readonly kind: 'source';
      readonly reader: SourceReader;
      /** Most records one poll emits. */
      readonly batchSize: number;
      /** Records per second over all subtasks; undefined = as fast as downstream allows. */
      readonly rate?: number;
      /** Event-time watermarks from the records' timestamps; none without it. */
      readonly watermarks?: WatermarkStrategy;
    }
  | {
      readonly kind: 'window';
      readonly assigner: WindowAssigner;
      readonly allowedLateness: number;
      /** Records later than the allowed lateness: to the `late` output, or dropped and counted. */
      readonly late: 'drop' | 'side-output';
      /** Early firings (tumbling and sliding): also fire, keeping the contents, at every
       *  start + k·earlyEvery − 1 before the window's end. */
      readonly earlyEvery?: number;
      /** The early firings' clock: in processing time each key's open windows fire whenever
       *  the recorded processing time passes a multiple of earlyEvery. @default event-time */
      readonly earlyIn?: TimeDomain;
      readonly fn: WindowFunction;
    }
  | { readonly kind: 'map'; readonly fn: (value: unknown) => unknown }
  | { readonly kind: 'filter'; readonly fn: (value: unknown) => boolean }
  | { readonly kind: 'flatMap'; readonly fn: (value: unknown) => Iterable<unknown> }
  | { readonly kind: 'reduce'; readonly fn: (acc: unknown, value: unknown) => unknown }
  | {
      readonly kind: 'aggregate';
      readonly create: () => unknown;
      readonly add: (acc: unknown, value: unknown) => unknown;
      readonly result: (acc: unknown, key: unknown) => unknown;
    }
  | {
      readonly kind: 'process';
      readonly state: StateDeclarations;
      /** Tags of the side outputs it may emit to. */
      readonly sideOutputs?: readonly string[];
      readonly fn: (value: unknown, ctx: ProcessContext) => void;
      /** A two-input process function (`connect`): called for the records of its second
       *  input, `fn` for those of its first. Both share the key's state and timers. */
      readonly fn2?: (value: unknown, ctx: ProcessContext) => void;
      /** With a broadcast second input (Flink's broadcast state pattern): the map states each
       *  subtask keeps a copy of, written by `fn2` (which has no key) and read by `fn`. */
      readonly broadcastState?: readonly string[];
      /** On a non-keyed stream: its state is operator state, one copy per subtask — list state
       *  split evenly over the subtasks of a restore, union list state given whole to each. */
      readonly operatorState?: true;
      /** Called once the subtask's input ended, before end of input goes on (Flink's endInput). */
      readonly endInput?: (ctx: ProcessContext) => void;
      /** Called when one of the key's event-time timers fires; `ctx.timestamp` is its time. */
      readonly onTimer?: (timestamp: number, ctx: ProcessContext) => void;
    }
  | { readonly kind: 'sink'; readonly sink: SinkSpec };

export type OperatorKind = OperatorSpec['kind'];

/** Operators whose state is partitioned by key and that must follow a keyBy. */
export const KEYED_KINDS: ReadonlySet<OperatorKind> = new Set(['reduce', 'aggregate', 'process', 'window']);

/** Whether an operator keeps keyed state: a keyed kind, but for a process function with operator state. */
export const isKeyedOperator = (spec: OperatorSpec): boolean => KEYED_KINDS.has(spec.kind) && !(spec.kind === 'process' && spec.operatorState);

export interface OperatorNode {
  readonly name: OperatorName;
  readonly spec: OperatorSpec;
  readonly parallelism: number;
  readonly inputs: readonly OperatorInput[];
  /** False when the user asked for a new chain (Flink's startNewChain / disableChaining). */
  readonly chainable: boolean;
  /** The job's `onUserError`, on every operator: a subtask sees only its stage's nodes.
   *  @default 'fail' */
  readonly onUserError?: UserErrorPolicy;
}

export interface JobGraph {
  readonly name: JobName;
  readonly maxParallelism: number;
  /** Byte bound of one envelope's records (an SQS message). */
  readonly bufferBytes: number;
  readonly checkpoints: CheckpointSettings;
  readonly restart: RestartStrategy;
  /** What happens to a record a user function throws on (see `UserErrorPolicy`). */
  readonly onUserError: UserErrorPolicy;
  /** In topological order: every input precedes its consumer. */
  readonly operators: readonly OperatorNode[];
}

/** A parallelism is a whole number from 1 up to the job's maxParallelism (its key groups). */
export function validateParallelism(field: string, parallelism: unknown, maxParallelism: number): void {
  if (typeof parallelism !== 'number' || !Number.isInteger(parallelism) || parallelism < 1) {
    throw new ConfigError(field, `must be a positive integer, got ${String(parallelism)}`);
  }
  if (parallelism > maxParallelism) {
    throw new ConfigError(field, `${parallelism} exceeds maxParallelism ${maxParallelism}`);
  }
}

/**
 * What must hold of each node, given everything that consumes its outputs: a source has no
 * input and everything else has one, each output but a sink's is read, a late-records input
 * comes from a window that side-outputs them, and keyed operators follow a keyBy.
 */
export function validateOperator(
  graph: JobGraph,
  op: OperatorNode,
  byName: Map<OperatorName, OperatorNode>,
  consumers: OperatorNode[],
): void {
  const field = `operators.${op.name}`;
  validateParallelism(`${field}.parallelism`, op.parallelism, graph.maxParallelism);
  const kind = op.spec.kind;
  if (kind === 'source' && op.inputs.length > 0) throw new ConfigError(field, 'a source takes no input');
  if (kind !== 'source' && op.inputs.length === 0) throw new ConfigError(field, `${kind} has no input`);
  if (kind === 'sink' && consumers.length > 0) throw new ConfigError(field, 'a sink has no consumers');
  if (kind !== 'sink' && !consumers.some((c) => c.inputs.some((i) => i.from === op.name && (i.port ?? 'main') === 'main'))) {
    throw new ConfigError(field, `${kind} output is not consumed; end the stream with a sink`);
  }
  for (const input of op.inputs) {
    const from = byName.get(input.from);
    if (input.port === 'late' && from && (from.spec.kind !== 'window' || from.spec.late !== 'side-output')) {
      throw new ConfigError(field, `${input.from} has no late-records output (only a window with late: 'side-output' has one)`);
    }
    const tag = input.port?.startsWith('side:') ? input.port.slice('side:'.length) : null;
    if (tag !== null && from && (from.spec.kind !== 'process' || !(from.spec.sideOutputs ?? []).includes(tag))) {
      throw new ConfigError(field, `${input.from} declares no side output ${JSON.stringify(tag)} (list it in the process function's sideOutputs)`);
    }
  }
  const keyedInputs = op.spec.kind === 'process' && op.spec.broadcastState ? op.inputs.filter((i) => i.input !== 2) : op.inputs;
  if (op.spec.kind === 'process' && op.spec.operatorState && op.inputs.some((i) => i.partitioning.type === 'hash')) {
    throw new ConfigError(field, 'operator state is for a stream that is not keyed; after keyBy, declare keyed state');
  }
  if (isKeyedOperator(op.spec) && !keyedInputs.every((i) => i.partitioning.type === 'hash')) {
    throw new ConfigError(field, `${kind} keeps keyed state and needs a keyed stream: call keyBy() before it`);
  }
  for (const input of op.inputs) {
    if (!byName.has(input.from)) throw new ConfigError(field, `unknown input ${input.from}`);
  }
  validateTwoInputs(field, op);
}

/** A two-input operator reads each of its inputs from other outputs; only it has a second input. */
function validateTwoInputs(field: string, op: OperatorNode): void {
  const second = op.inputs.filter((i) => i.input === 2);
  const twoInputs = op.spec.kind === 'process' && op.spec.fn2 !== undefined;
  if (!twoInputs && second.length > 0) throw new ConfigError(field, `${op.spec.kind} has one input; only a connected process function has a second`);
  if (!twoInputs) return;
  if (second.length === 0 || second.length === op.inputs.length) throw new ConfigError(field, 'a connected process function needs records on both of its inputs');
  const broadcast = op.spec.kind === 'process' && op.spec.broadcastState !== undefined;
  if (broadcast && !second.every((i) => i.partitioning.type === 'broadcast')) {
    throw new ConfigError(field, 'with broadcast state, the second input must be a broadcast() stream');
  }
  const read = new Set<string>();
  for (const input of op.inputs) {
    const output = `${input.from}${input.port && input.port !== 'main' ? ` (${input.port})` : ''}`;
    if (read.has(output)) throw new ConfigError(field, `reads ${output} twice; connect two different streams`);
    read.add(output);
  }
}
