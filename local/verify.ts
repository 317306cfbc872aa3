/**
 * The exactly-once check of a finished local run: every sink's committed output against a
 * sequential evaluation of the same job over the same input (as multisets; a DynamoDB sink
 * as its final rows).
 *
 * A difference proves a lost or duplicated record only if the reference itself can be
 * reproduced. So when the output differs the job is evaluated a second time; if the two
 * evaluations disagree, a user function read the clock or randomness (DESIGN §4 rule 2),
 * the run cannot be checked, and the verdict says so and names the operator where the
 * output first changed. A run that matches costs one evaluation, as before.
 */
import { createHash } from 'node:crypto';
import { evaluateSequentially, type Evaluation } from '../lib/api/evaluate.js';
import type { JobGraph, SourceIo } from '../lib/core/graph.js';
import type { Ports } from '../lib/ports/index.js';
import { expectedSinkOutput, readSinkOutput } from '../lib/runtime/sink-reader.js';
import { sourceIo } from '../lib/runtime/source-io.js';

/** ok; differs: the committed output is not the reference's; non-deterministic: the
 *  reference is not reproducible, so the run was not checked. */
export type Verdict = 'ok' | 'differs' | 'non-deterministic';

export interface Verification {
  readonly ok: boolean;
  readonly verdict: Verdict;
  /** With 'non-deterministic': the first operator, in graph order, whose output differed
   *  between two evaluations; absent when only the sinks showed the difference. */
  readonly operator?: string;
  readonly summary: string;
  /** The committed output against the (first) evaluation, one line per record. */
  readonly differences: string[];
}

export async function verifyRun(
  ports: Ports,
  graph: JobGraph,
  describe: ((records: unknown[]) => string) | undefined,
): Promise<Verification> {
  const io = sourceIo(ports, graph.name);
  const evaluation = await evaluateSequentially(graph, io);
  const { differences, committed } = await compareSinks(ports, graph, evaluation);
  const results = describe ? describe(committed) : `${committed.length} results`;
  const summary = `${results}, ${evaluation.sourceRecords} records`;
  if (differences.length === 0) return { ok: true, verdict: 'ok', summary, differences };
  const unstable = await nonDeterminism(graph, io, evaluation);
  if (!unstable) return { ok: false, verdict: 'differs', summary, differences };
  return { ok: false, verdict: 'non-deterministic', ...unstable, summary, differences };
}

/** Every sink's committed records against the evaluation's, as multisets. */
async function compareSinks(ports: Ports, graph: JobGraph, evaluation: Evaluation): Promise<{ differences: string[]; committed: unknown[] }> {
  const differences: string[] = [];
  const committed: unknown[] = [];
  for (const [sink, delivered] of evaluation.sinks) {
    const expected = expectedSinkOutput(graph, sink, delivered);
    const actual = await readSinkOutput(ports, graph, sink);
    if (expected === null || actual === null) continue; // a print sink keeps nothing to compare
    for (const r of actual) committed.push(r); // no spread: outputs can exceed the argument limit
    const count = new Map<string, number>();
    const tally = (r: unknown, by: number) => {
      const k = JSON.stringify(r);
      count.set(k, (count.get(k) ?? 0) + by);
    };
    for (const r of expected) tally(r, 1);
    for (const r of actual) tally(r, -1);
    for (const [record, n] of count) {
      if (n > 0) differences.push(`${sink}: missing ${n}× ${record}`);
      if (n < 0) differences.push(`${sink}: extra ${-n}× ${record}`);
    }
  }
  return { differences, committed };
}

/**
 * Null if a second evaluation delivers exactly what the first did to every sink. Otherwise
 * the job is non-deterministic; a third evaluation, compared with the second operator by
 * operator, finds where: the first operator whose output changed (everything downstream of
 * it changes too). Two evaluations may still agree inside, e.g. both within one millisecond
 * of a clock read; then no operator is named.
 */
async function nonDeterminism(graph: JobGraph, io: SourceIo, first: Evaluation): Promise<{ operator?: string } | null> {
  const second = await fingerprinted(graph, io);
  if (sameSinkInput(first, second.evaluation)) return null;
  const third = await fingerprinted(graph, io);
  const changed = second.outputs.find((o, i) => o.digest !== third.outputs[i]?.digest);
  return changed ? { operator: changed.operator } : {};
}

/** An evaluation with a digest of every operator output, in graph order. */
async function fingerprinted(graph: JobGraph, io: SourceIo) {
  const outputs: { operator: string; digest: string }[] = [];
  const evaluation = await evaluateSequentially(graph, io, {
    observe(operator, _port, events) {
      const hash = createHash('sha256');
      for (const e of events) hash.update(`${JSON.stringify(e)}\n`);
      outputs.push({ operator, digest: hash.digest('hex') });
    },
  });
  return { evaluation, outputs };
}

/** The same records in the same order at every sink (a sequential evaluation has one order). */
function sameSinkInput(a: Evaluation, b: Evaluation): boolean {
  for (const [sink, records] of a.sinks) {
    const other = b.sinks.get(sink);
    if (!other || other.length !== records.length) return false;
    for (let i = 0; i < records.length; i++) if (JSON.stringify(records[i]) !== JSON.stringify(other[i])) return false;
  }
  return a.sinks.size === b.sinks.size;
}
