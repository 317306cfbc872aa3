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
 *
 * A user function that throws ends the evaluation, as it fails the job over; with
 * `onUserError: 'dead-letter'` the record is skipped at that operator exactly as the engine
 * skips it, and the evaluation says which records each operator skipped (the dead letters
 * the run must have written). See evaluate-user-errors.ts.
 */
import { InvalidInputError } from '../core/errors.js';
import type { JobGraph, OperatorNode, OutputPort, SourceIo, SourceReader } from '../core/graph.js';
import { MAX, MIN, mergeInputs, otherOutput, type Event } from './evaluate-inputs.js';
import { applyRecordOperator } from './evaluate-operators.js';
import { DeadLetters, userErrors } from './evaluate-user-errors.js';
import { evaluateWindow } from './evaluate-windows.js';

export type { Event } from './evaluate-inputs.js';

export interface Evaluation {
  /** Every record each sink received, by sink name. */
  readonly sinks: Map<string, unknown[]>;
  /** Records read from all sources. */
  readonly sourceRecords: number;
  /**
   * With `onUserError: 'dead-letter'`, the records each operator skipped because a user
   * function (its keyBy's included) threw on them, distinct by JSON: the engine writes one
   * dead letter for each. Operators that skipped nothing are absent.
   */
  readonly deadLettered: Map<string, unknown[]>;
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
  getObject: () => Promise.reject(new InvalidInputError('this evaluation was given no input to read objects from')),
  getObjectBytes: () => Promise.reject(new InvalidInputError('this evaluation was given no input to read objects from')),
  listObjects: () => Promise.reject(new InvalidInputError('this evaluation was given no input to list objects from')),
  readLog: () => Promise.reject(new InvalidInputError('this evaluation was given no input to read logs from')),
  logHead: () => Promise.reject(new InvalidInputError('this evaluation was given no input to read logs from')),
  listShards: () => Promise.reject(new InvalidInputError('this evaluation was given no input to read streams from')),
  readShard: () => Promise.reject(new InvalidInputError('this evaluation was given no input to read streams from')),
};

/** A source that reads objects or logs needs `io` (the same input the job reads). */
export async function evaluateSequentially(graph: JobGraph, io: SourceIo = noInput, options: EvaluationOptions = {}): Promise<Evaluation> {
  const observe = options.observe ?? (() => {});
  const main = new Map<string, Event[]>();
  const others = new Map<string, Event[]>();
  const sinks = new Map<string, unknown[]>();
  const letters = new DeadLetters();
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
    const errors = userErrors(op, letters);
    const input = mergeInputs(op, main, others, errors);
    if (spec.kind === 'sink') {
      sinks.set(op.name, input.filter((e) => e.kind === 'rec').map((e) => (e as { value: unknown }).value));
      continue;
    }
    if (spec.kind === 'window') {
      const out = evaluateWindow(spec, input, errors);
      main.set(op.name, out.main);
      others.set(otherOutput(op.name, 'late'), out.late);
      observe(op.name, 'main', out.main);
      observe(op.name, 'late', out.late);
      continue;
    }
    const out = applyRecordOperator(op, input, errors);
    main.set(op.name, out.main);
    observe(op.name, 'main', out.main);
    for (const [port, events] of out.side) {
      others.set(otherOutput(op.name, port), events);
      observe(op.name, port, events);
    }
  }
  return { sinks, sourceRecords, deadLettered: letters.records() };
}

/**
 * Subtasks one after another; the source's watermark is the minimum over its subtasks'
 * (each behind its largest timestamp by the out-of-orderness, as the engine's). A subtask
 * that can read nothing yet waits while the others read on (a Kinesis child shard waits
 * for another subtask to finish its parent: the markers batches leave are seen by later
 * reads); a whole round in which none moves means the source is unbounded.
 */
async function readSource(op: OperatorNode, reader: SourceReader, batchSize: number, outOfOrderness: number | undefined, sourceIo: SourceIo): Promise<Event[]> {
  const events: Event[] = [];
  const p = op.parallelism;
  const marks = Array.from({ length: p }, () => MIN);
  const maxTs = Array.from({ length: p }, () => MIN);
  const offsets = Array.from({ length: p }, (_, subtask) => reader.start(subtask, p));
  const done = Array.from({ length: p }, () => false);
  const io = withMarkers(sourceIo);
  let current = MIN;
  for (let moved = true; moved && !done.every(Boolean); ) {
    moved = false;
    for (let subtask = 0; subtask < p; subtask++) {
      while (!done[subtask]) {
        const offset = offsets[subtask];
        const limits = reader.limits ? await reader.limits(io, subtask, p, offset) : undefined;
        const batch = await reader.read(subtask, p, offset, batchSize, io, limits);
        io.note(batch.markers);
        batch.values.forEach((value, i) => {
          const ts = batch.timestamps?.[i];
          if (ts !== undefined && ts > maxTs[subtask]!) maxTs[subtask] = ts;
          events.push({ kind: 'rec', value, ts });
        });
        const stuck = JSON.stringify(batch.next) === JSON.stringify(offset) && !batch.finished;
        offsets[subtask] = batch.next;
        done[subtask] = batch.finished;
        marks[subtask] = batch.finished ? MAX : outOfOrderness !== undefined && maxTs[subtask] !== MIN ? maxTs[subtask]! - outOfOrderness - 1 : MIN;
        const wm = Math.min(...marks);
        if (wm > current) events.push({ kind: 'wm', wm: (current = wm) });
        if (stuck) break;
        moved = true;
      }
    }
  }
  if (!done.every(Boolean)) throw new InvalidInputError(`source ${op.name} is unbounded (it reads nothing more yet is not finished): cannot evaluate it sequentially`);
  return events;
}

/** `io` whose listings also show the marker objects the evaluation's own reads left. */
function withMarkers(io: SourceIo): SourceIo & { note(markers: readonly string[] | undefined): void } {
  const written = new Set<string>();
  return {
    ...io,
    listObjects: async (prefix) => {
      const found = new Set(await io.listObjects(prefix));
      for (const key of written) if (key.startsWith(prefix)) found.add(key);
      return [...found].sort();
    },
    note: (markers) => markers?.forEach((m) => written.add(m)),
  };
}
