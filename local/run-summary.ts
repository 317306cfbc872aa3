/**
 * What `tidemark run` reports: the summary of a run (printed, or as one JSON object with
 * `--json`) and the live progress line. Restarts and the last failure come from the job
 * item the run polls; wire-fault counts from the world's AWS clients.
 */
import { DEFAULT_MAX_LATENCY_MS, type WireFaultCounts, type WireFaultOptions } from '../lib/adapters/aws/wire-faults.js';
import { dollars, type CostReport } from '../lib/core/cost.js';
import type { CheckpointRecord, FailureInfo, JobRecord } from '../lib/core/manifest.js';
import { formatCheckpointTable, type CheckpointRow } from './checkpoint-table.js';
import type { LocalWorld } from './worlds.js';

export interface SinkSummary {
  readonly location: string;
  readonly records: number;
  readonly sample: unknown[];
}

export interface RunSummary {
  readonly job: string;
  readonly startedAt: number;
  /** Where it ran: `memory`, `ministack`, `external`, or a deployed stack on one of them. */
  readonly world: string;
  readonly kills: number;
  readonly restores: number;
  readonly note?: string;
  /** Why each generation started, as observed while the job ran. */
  readonly generations: string[];
  readonly requests: LocalWorld['requests'];
  /** The wire faults asked for and what was injected (provisioning included); null without. */
  readonly wireFaults: (WireFaultOptions & { readonly injected: WireFaultCounts }) | null;
  readonly status: string;
  readonly detail: string | null;
  readonly generation: number;
  /** Failovers of the job, and the failure behind the latest one (or behind FAILED). */
  readonly restarts: number;
  readonly lastFailure: FailureInfo | null;
  readonly elapsedMs: number;
  readonly sourceRecords: number;
  readonly checkpoints: CheckpointRow[];
  /** What AWS would bill for the job's calls and invocations at list prices (lib/core/cost.ts); null where the run cannot count them. */
  readonly cost: CostReport | null;
  readonly sinks: Record<string, SinkSummary>;
  /** Input the sources could not read, kept with where it came from. */
  readonly deadLetters: { readonly count: number; readonly location: string };
  readonly exactlyOnce: { readonly ok: boolean; readonly summary: string; readonly differences: string[] } | null;
}

/** Job items written before restarts were recorded have neither field. */
export const restartsOf = (job: JobRecord | null) => job?.restarts ?? 0;
export const lastFailureOf = (job: JobRecord | null): FailureInfo | null => job?.lastFailure ?? null;

/** What the local host counts as the job runs (a deployed job's functions count for themselves). */
export interface Counters {
  readonly sourceRecords: number;
  readonly recordsToSinks: number;
  readonly kills: number;
}

export interface Progress {
  readonly elapsedMs: number;
  /** Null where the watcher cannot see them (a deployed job). */
  readonly counters: Counters | null;
  readonly job: JobRecord | null;
}

export function progressLine(p: Progress, seen: Map<number, CheckpointRecord>): string {
  const completed = [...seen.values()].filter((c) => c.status === 'COMPLETED');
  const last = completed.sort((a, b) => b.id - a.id)[0];
  const lastMs = last?.completedAt ? `${last.completedAt - last.triggeredAt} ms` : '-';
  const failure = lastFailureOf(p.job);
  const restarts = `restarts ${restartsOf(p.job)}${failure ? ` (last: ${failure.code}${failure.subtask ? ` in ${failure.subtask}` : failure.operator ? ` in ${failure.operator}` : ''})` : ''}`;
  const c = p.counters;
  const counted = c ? `  in ${c.sourceRecords} records  out ${c.recordsToSinks} records` : '';
  const kills = c ? `  kills ${c.kills}` : '';
  return `${(p.elapsedMs / 1000).toFixed(1)} s${counted}  checkpoints ${completed.length} (last ${lastMs})${kills}  ${restarts}`;
}

export function printSummary(summary: RunSummary, out: (line: string) => void): void {
  out('');
  const restarts = summary.restarts > 0 ? `, ${summary.restarts} restart${summary.restarts === 1 ? '' : 's'}` : '';
  out(`job ${summary.job} on ${summary.world}: ${summary.status} after ${(summary.elapsedMs / 1000).toFixed(1)} s, generation ${summary.generation}${restarts}${summary.detail ? ` (${summary.detail})` : ''}`);
  if (summary.lastFailure) out(`last failure: ${failureLine(summary.lastFailure)}`);
  out(`fault injection: ${summary.kills} invocations killed, ${summary.restores} forced restores`);
  if (summary.wireFaults) out(wireFaultsLine(summary.wireFaults));
  for (const g of summary.generations) out(`  ${g}`);
  if (summary.note) out(`note: ${summary.note}`);
  out('');
  out(formatCheckpointTable(summary.checkpoints, summary.startedAt));
  out('');
  for (const [name, sink] of Object.entries(summary.sinks)) out(`sink ${name}: ${sink.records} records committed at ${sink.location}`);
  if (summary.cost) for (const line of costLines(summary.cost)) out(line);
  if (summary.deadLetters.count > 0) out(`dead letters: ${summary.deadLetters.count} input lines the sources could not read, at ${summary.deadLetters.location}`);
}

const INPUT_SHOWN = 300;

/** `operator counts, subtask counts/1: USER_FUNCTION operator counts threw: boom; input {"w":"x"}` */
export function failureLine(f: FailureInfo): string {
  const where = [f.operator ? `operator ${f.operator}` : null, f.subtask ? `subtask ${f.subtask}` : null].filter(Boolean).join(', ');
  const input = f.input === null ? '' : `; input ${f.input.length > INPUT_SHOWN ? `${f.input.slice(0, INPUT_SHOWN)}…` : f.input}`;
  return `${where ? `${where}: ` : ''}${f.code}: ${f.message}${input}`;
}

/** `wire faults (seed 7; throttle 0.02, …): sqs 3 throttle, 1 5xx, …; s3 …` */
export function wireFaultsLine(w: NonNullable<RunSummary['wireFaults']>): string {
  const rates = Object.entries(w.rates)
    .filter(([, r]) => (r ?? 0) > 0)
    .map(([kind, r]) => `${kind} ${r}${kind === 'latency' ? ` up to ${w.maxLatencyMs ?? DEFAULT_MAX_LATENCY_MS} ms` : ''}`)
    .join(', ');
  const services = (['sqs', 's3', 'dynamodb'] as const).map((s) => {
    const counts = w.injected[s];
    return `${s} ${Object.entries(counts).map(([kind, n]) => `${n} ${kind}`).join(', ')}`;
  });
  return `wire faults (seed ${w.seed}; ${rates || 'no rates'}): injected ${services.join('; ')}`;
}

/** `cost at list prices (us-east-1, 2026-06-13): $0.00123, …` and the units behind it. */
export function costLines(c: CostReport): string[] {
  const u = c.units;
  const per = [c.perCheckpoint === null ? null : `${dollars(c.perCheckpoint)} per checkpoint`, c.perMillionRecords === null ? null : `${dollars(c.perMillionRecords)} per million records`].filter(Boolean);
  const by = `SQS ${dollars(c.byService.sqs)}, DynamoDB ${dollars(c.byService.dynamodb)}, S3 ${dollars(c.byService.s3)}, Lambda ${dollars(c.byService.lambda)}`;
  const kib = (b: number) => `${(b / 1024).toFixed(1)} KiB`;
  return [
    `cost at list prices (${c.region}, ${c.prices}): ${dollars(c.total)}${per.length ? ` (${per.join(', ')})` : ''}: ${by}`,
    `  billed: SQS ${u.sqsFifoBilled + u.sqsStandardBilled} requests of 64 KiB for ${u.sqsRequests} calls (largest body ${kib(u.sqsLargestBody)}), DynamoDB ${u.dynamodbWriteUnits} WRU ${u.dynamodbReadUnits} RRU, S3 ${u.s3Tier1} PUT/LIST ${u.s3Tier2} GET, Lambda ${u.lambdaInvocations} invocations ${u.lambdaGbSeconds.toFixed(2)} GB-s (local durations)`,
  ];
}
