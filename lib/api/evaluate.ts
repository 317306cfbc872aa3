/**
 * Plain sequential evaluation of a job: every source read to its end in one pass, every
 * operator applied in order with keyed state in ordinary maps, no queues, no checkpoints.
 * It is the reference the simulation and `tidemark run` compare a distributed run against,
 * and it is written independently of the runtime (window logic included) so that it can
 * disagree with it.
 *
 * Each operator's output is a sequence of events: records (value, timestamp) and watermarks.
 * A source emits its records a poll (`batchSize`) at a time, each poll followed by its
 * watermark, and the largest watermark at the end — as the runtime does. An operator's
 * watermark is the minimum over its inputs; union inputs are read one after another. With
 * one source subtask this reproduces the runtime's lateness decisions exactly.
 *
 * Subtasks are not modelled one by one: of the routing, only how many subtasks receive a
 * record changes the output (`deliveries`). Forward, rebalance and keyBy hand a record to
 * one subtask, and which one does not matter: map, filter and flatMap keep no state, and
 * keyBy sends all of a key, with its state, to one subtask. A broadcast hands it to every
 * subtask of the consumer, which is not keyed (keyed operators need keyBy) and so processes
 * each copy on its own. Every channel carries every watermark after the records before it,
 * so a subtask's watermark is the minimum over all upstream subtasks, as here; chaining
 * changes nothing either. Parallelism is the graph's (a rescaled restore changes how many
 * copies a broadcast makes from then on, which this cannot know). Where the engine's own
 * output depends on how parallel subtasks interleave (order-sensitive functions over
 * several upstream subtasks, records behind the watermark after a parallel edge), no one
 * order is the answer and this gives one of the possible ones.
 */
import type { JobGraph, OperatorNode, OutputPort, Partitioning, SourceIo, SourceReader } from '../core/graph.js';
import { encodeKey } from '../core/keygroups.js';
import { evaluateWindow } from './evaluate-windows.js';

export type Event = { readonly kind: 'rec'; readonly value: unknown; readonly ts: number | undefined } | { readonly kind: 'wm'; readonly wm: number };

export interface Evaluation {
  /** Every record each sink received, by sink name. */
  readonly sinks: Map<string, unknown[]>;
  /** Records read from all sources. */
  readonly sourceRecords: number;
}

export interface EvaluationOptions {
  /**
   * Called with every operator's output (a window's late records as port 'late'), in graph
   * order, as soon as it is computed: to compare two evaluations operator by operator.
   * Without it the evaluation does no work beyond its result.
   */
  readonly observe?: (operator: string, port: OutputPort, events: readonly Event[]) => void;
}

const noInput: SourceIo = {
  getObject: () => Promise.reject(new Error('this evaluation was given no input to read objects from')),
  listObjects: () => Promise.reject(new Error('this evaluation was given no input to list objects from')),
  readLog: () => Promise.reject(new Error('this evaluation was given no input to read logs from')),
  logHead: () => Promise.reject(new Error('this evaluation was given no input to read logs from')),
};

const MAX = Number.MAX_SAFE_INTEGER;
const MIN = Number.MIN_SAFE_INTEGER;

/** A source that reads objects or logs needs `io` (the same input the job reads). */
export async function evaluateSequentially(graph: JobGraph, io: SourceIo = noInput, options: EvaluationOptions = {}): Promise<Evaluation> {
  const observe = options.observe ?? (() => {});
  const main = new Map<string, Event[]>();
  const late = new Map<string, Event[]>();
  const sinks = new Map<string, unknown[]>();
  let sourceRecords = 0;
  for (const op of graph.operators) {
    const spec = op.spec;
    if (spec.kind === 'source') {
      const events = await readSource(op, spec.reader, spec.batchSize, spec.watermarks?.outOfOrderness, io);
      sourceRecords += events.filter((e) => e.kind === 'rec').length;
      main.set(op.name, events);
      observe(op.name, 'main', events);
      continue;
    }
    const input = mergeInputs(op, main, late);
    if (spec.kind === 'sink') {
      sinks.set(op.name, input.filter((e) => e.kind === 'rec').map((e) => (e as { value: unknown }).value));
      continue;
    }
    if (spec.kind === 'window') {
      const out = evaluateWindow(spec, input.map((e) => ({ ...e, key: keyOf(e) })));
      main.set(op.name, out.main);
      late.set(op.name, out.late);
      observe(op.name, 'main', out.main);
      observe(op.name, 'late', out.late);
      continue;
    }
    const out = applyRecordOperator(op, input);
    main.set(op.name, out);
    observe(op.name, 'main', out);
  }
  return { sinks, sourceRecords };

  function keyOf(e: Event & { from?: OperatorNode['inputs'][number] }): unknown {
    return e.kind === 'rec' && e.from?.partitioning.type === 'hash' ? e.from.partitioning.key(e.value) : undefined;
  }
}

/** Subtasks one after another; the source's watermark is the minimum over its subtasks'
 *  (a subtask not read yet holds it back, as a lagging subtask does in a real run). */
async function readSource(op: OperatorNode, reader: SourceReader, batchSize: number, outOfOrderness: number | undefined, io: SourceIo): Promise<Event[]> {
  const events: Event[] = [];
  const marks = Array.from({ length: op.parallelism }, () => MIN);
  let current = MIN;
  for (let subtask = 0; subtask < op.parallelism; subtask++) {
    let offset = reader.start(subtask, op.parallelism);
    let maxTs = MIN;
    for (;;) {
      const limits = reader.limits ? await reader.limits(io, subtask, op.parallelism, offset) : undefined;
      const batch = await reader.read(subtask, op.parallelism, offset, batchSize, io, limits);
      batch.values.forEach((value, i) => {
        const ts = batch.timestamps?.[i];
        if (ts !== undefined && ts > maxTs) maxTs = ts;
        events.push({ kind: 'rec', value, ts });
      });
      const stuck = JSON.stringify(batch.next) === JSON.stringify(offset);
      offset = batch.next;
      marks[subtask] = batch.finished ? MAX : outOfOrderness !== undefined && maxTs !== MIN ? maxTs - outOfOrderness - 1 : MIN;
      const wm = Math.min(...marks);
      if (wm > current) events.push({ kind: 'wm', wm: (current = wm) });
      if (batch.finished) break;
      if (stuck) throw new Error(`source ${op.name} is unbounded (it reads nothing more yet is not finished): cannot evaluate it sequentially`);
    }
  }
  return events;
}

/** How many of the consumer's subtasks receive each record of an edge. */
function deliveries(partitioning: Partitioning, consumerParallelism: number): number {
  switch (partitioning.type) {
    case 'forward':
    case 'rebalance':
    case 'hash':
      return 1;
    case 'broadcast':
      return consumerParallelism;
  }
}

/**
 * Inputs one after another, each record as many times as subtasks receive it; the
 * watermark is the minimum over inputs (others start at MIN).
 */
function mergeInputs(op: OperatorNode, main: Map<string, Event[]>, late: Map<string, Event[]>) {
  const marks = op.inputs.map(() => MIN);
  let current = MIN;
  const out: (Event & { from: OperatorNode['inputs'][number] })[] = [];
  op.inputs.forEach((input, i) => {
    const copies = deliveries(input.partitioning, op.parallelism);
    for (const e of (input.port === 'late' ? late : main).get(input.from) ?? []) {
      if (e.kind === 'rec') {
        for (let c = 0; c < copies; c++) out.push({ ...e, from: input });
        continue;
      }
      marks[i] = Math.max(marks[i]!, e.wm);
      const wm = Math.min(...marks);
      if (wm > current) {
        current = wm;
        out.push({ kind: 'wm', wm, from: input });
      }
    }
  });
  return out;
}

function applyRecordOperator(op: OperatorNode, input: (Event & { from: OperatorNode['inputs'][number] })[]): Event[] {
  const spec = op.spec;
  const out: Event[] = [];
  const state = new Map<string, unknown>();
  const keyOf = (e: { value: unknown; from: OperatorNode['inputs'][number] }) =>
    e.from.partitioning.type === 'hash' ? e.from.partitioning.key(e.value) : undefined;
  for (const e of input) {
    if (e.kind === 'wm') {
      out.push({ kind: 'wm', wm: e.wm });
      continue;
    }
    const emit = (value: unknown, ts = e.ts) => out.push({ kind: 'rec', value, ts });
    switch (spec.kind) {
      case 'map':
        emit(spec.fn(e.value));
        break;
      case 'filter':
        if (spec.fn(e.value)) emit(e.value);
        break;
      case 'flatMap':
        for (const v of spec.fn(e.value)) emit(v);
        break;
      case 'reduce': {
        const k = encodeKey(keyOf(e));
        const next = state.has(k) ? spec.fn(state.get(k), e.value) : e.value;
        state.set(k, next);
        emit(next);
        break;
      }
      case 'aggregate': {
        const key = keyOf(e);
        const k = encodeKey(key);
        const next = spec.add(state.has(k) ? state.get(k) : spec.create(), e.value);
        state.set(k, next);
        emit(spec.result(next, key));
        break;
      }
      case 'process': {
        const key = keyOf(e);
        spec.fn(e.value, { key, timestamp: e.ts, state: processState(state, spec.state, encodeKey(key)), emit: (v, ts) => emit(v, ts ?? e.ts) });
        break;
      }
      default:
        throw new Error(`cannot evaluate ${spec.kind} here`);
    }
  }
  return out;
}

function processState(store: Map<string, unknown>, declared: Record<string, { kind: 'value' | 'map' }>, k: string): Record<string, unknown> {
  const state: Record<string, unknown> = {};
  for (const [name, decl] of Object.entries(declared)) {
    const id = `${name}\u0000${k}`;
    if (decl.kind === 'value') {
      state[name] = { value: () => store.get(id), update: (v: unknown) => store.set(id, v), clear: () => store.delete(id) };
      continue;
    }
    const m = () => {
      if (!store.has(id)) store.set(id, new Map<string, [unknown, unknown]>());
      return store.get(id) as Map<string, [unknown, unknown]>;
    };
    state[name] = {
      get: (mk: unknown) => m().get(encodeKey(mk))?.[1],
      put: (mk: unknown, v: unknown) => m().set(encodeKey(mk), [mk, v]),
      remove: (mk: unknown) => m().delete(encodeKey(mk)),
      contains: (mk: unknown) => m().has(encodeKey(mk)),
      keys: () => [...m().values()].map((x) => x[0]),
      values: () => [...m().values()].map((x) => x[1]),
      entries: () => [...m().values()],
      isEmpty: () => m().size === 0,
      clear: () => m().clear(),
    };
  }
  return state;
}
