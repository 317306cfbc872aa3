/**
 * Manifest benchmark (`npm run bench:manifest`): what an acknowledgement costs as the
 * parallelism grows. On the memory manifest, which bills writes as DynamoDB would
 * (core/cost: per KiB of item, twice inside a transaction), a checkpoint of N subtasks
 * (three stages) is created and acked by N concurrent acks; per N it prints the write units
 * per ack (the completing write included), the largest checkpoint item, and the time taken.
 * It checks that every checkpoint completed exactly once with every ack counted. Last line:
 * one JSON object.
 */
import { expectedCount } from '../lib/core/checkpoint-acks.js';
import { checkpointId, generation, type SubtaskKey } from '../lib/core/ids.js';
import { newCheckpointRecord, type AckInfo } from '../lib/core/manifest.js';
import { MemoryManifestStore } from '../lib/adapters/memory/memory-manifest-store.js';

const SIZES = [16, 1024, 10_000];
const JOB = 'bench';

/** Three stages (source, keyed operator, sink) sharing N subtasks. */
function stagesFor(n: number): Record<string, number> {
  const source = Math.max(1, Math.floor(n / 4));
  const sink = Math.max(1, Math.floor(n / 4));
  return { source, count: n - source - sink, sink };
}

/** An ack as the runtime writes it, with every figure present. */
const ackOf = (subtask: SubtaskKey, i: number): AckInfo => ({
  key: `jobs/${JOB}/checkpoints/000000000001/${subtask}.json`,
  bytes: 4096 + i,
  alignmentMs: i % 50,
  finished: false,
  progress: 1000 + i,
  at: 1_700_000_000_000 + i,
  emitted: 900 + i,
  watermark: 1_700_000_000_000,
  syncMs: 3,
  asyncMs: 12,
});

interface Row {
  readonly subtasks: number;
  readonly writeUnitsPerAck: number;
  readonly checkpointItemBytes: number;
  readonly ms: number;
  readonly completed: boolean;
}

async function run(n: number): Promise<Row> {
  const store = new MemoryManifestStore();
  const id = checkpointId(1);
  const stages = stagesFor(n);
  await store.createCheckpoint(JOB, newCheckpointRecord({ id, gen: generation(1), stages, now: 0, savepoint: null, activity: 0 }));
  const subtasks = Object.entries(stages).flatMap(([stage, p]) => Array.from({ length: p }, (_, i) => `${stage}/${i}` as SubtaskKey));
  const before = store.requests.writeUnits;
  const started = performance.now();
  const outcomes = await Promise.all(subtasks.map((s, i) => store.ack(JOB, id, s, ackOf(s, i), 1_700_000_001_000)));
  const ms = performance.now() - started;
  const units = store.requests.writeUnits - before;
  const record = (await store.getCheckpoint(JOB, id))!;
  const completions = outcomes.filter((o) => o.kind === 'completed').length;
  const completed = completions === 1 && record.status === 'COMPLETED' && record.acked === n && expectedCount(record) === n;
  if (!completed) throw new Error(`checkpoint of ${n} subtasks: ${completions} completions, status ${record.status}, ${record.acked} acked`);
  return { subtasks: n, writeUnitsPerAck: units / n, checkpointItemBytes: JSON.stringify(record).length, ms, completed };
}

const rows: Row[] = [];
for (const n of SIZES) {
  const row = await run(n);
  rows.push(row);
  console.log(
    `${String(n).padStart(6)} subtasks: ${row.writeUnitsPerAck.toFixed(3)} write units per ack, checkpoint item ${row.checkpointItemBytes} B, ${row.ms.toFixed(1)} ms`,
  );
}
const at = (n: number) => rows.find((r) => r.subtasks === n)!;
const ratio = at(1024).writeUnitsPerAck / at(16).writeUnitsPerAck;
console.log(
  JSON.stringify({
    writeUnitsPerAck: Object.fromEntries(rows.map((r) => [String(r.subtasks), Number(r.writeUnitsPerAck.toFixed(4))])),
    ratio1024to16: Number(ratio.toFixed(4)),
    checkpointItemBytes: Object.fromEntries(rows.map((r) => [String(r.subtasks), r.checkpointItemBytes])),
    ms: Object.fromEntries(rows.map((r) => [String(r.subtasks), Number(r.ms.toFixed(1))])),
    completed10000: at(10_000).completed,
  }),
);
