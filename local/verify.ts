/**
 * The exactly-once check of a finished local run: every sink's committed output against a
 * sequential evaluation of the same job over the same input (as multisets; a DynamoDB sink
 * as its final rows).
 */
import { evaluateSequentially } from '../lib/api/evaluate.js';
import type { JobGraph } from '../lib/core/graph.js';
import type { Ports } from '../lib/ports/index.js';
import { expectedSinkOutput, readSinkOutput } from '../lib/runtime/sink-reader.js';
import { sourceIo } from '../lib/runtime/source-io.js';

export interface Verification {
  readonly ok: boolean;
  readonly summary: string;
  readonly differences: string[];
}

export async function verifyRun(
  ports: Ports,
  graph: JobGraph,
  describe: ((records: unknown[]) => string) | undefined,
): Promise<Verification> {
  const evaluation = await evaluateSequentially(graph, sourceIo(ports, graph.name));
  const differences: string[] = [];
  const all: unknown[] = [];
  for (const [sink, delivered] of evaluation.sinks) {
    const expected = expectedSinkOutput(graph, sink, delivered);
    const actual = await readSinkOutput(ports, graph, sink);
    if (expected === null || actual === null) continue; // a print sink keeps nothing to compare
    for (const r of actual) all.push(r); // no spread: outputs can exceed the argument limit
    const count = new Map<string, number>();
    for (const r of expected) count.set(JSON.stringify(r), (count.get(JSON.stringify(r)) ?? 0) + 1);
    for (const r of actual) count.set(JSON.stringify(r), (count.get(JSON.stringify(r)) ?? 0) - 1);
    for (const [record, n] of count) {
      if (n > 0) differences.push(`${sink}: missing ${n}× ${record}`);
      if (n < 0) differences.push(`${sink}: extra ${-n}× ${record}`);
    }
  }
  const results = describe ? describe(all) : `${all.length} results`;
  return { ok: differences.length === 0, summary: `${results}, ${evaluation.sourceRecords} records`, differences };
}
