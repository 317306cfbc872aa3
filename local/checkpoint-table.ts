/**
 * The checkpoint history as a table, in the spirit of Flink's web UI: id, status, trigger
 * time, end-to-end duration, checkpointed state size, acknowledged/expected subtasks and
 * the mean barrier alignment. Pure formatting over manifest records (their totals: no acks read).
 */
import { expectedCount } from '../lib/core/checkpoint-acks.js';
import { hasCompleted, type CheckpointRecord } from '../lib/core/manifest.js';

export interface CheckpointRow {
  readonly id: number;
  readonly kind: string;
  readonly status: string;
  readonly triggeredAt: number;
  readonly durationMs: number | null;
  readonly stateBytes: number;
  readonly acked: number;
  readonly expected: number;
  readonly avgAlignmentMs: number;
  readonly reason: string | null;
}

export function checkpointRow(c: CheckpointRecord): CheckpointRow {
  return {
    id: c.id,
    kind: c.savepoint !== null ? `savepoint ${c.savepoint}` : 'checkpoint',
    // A run's table tells what happened: a checkpoint retention discarded since did complete.
    status: hasCompleted(c) ? 'COMPLETED' : c.status,
    triggeredAt: c.triggeredAt,
    durationMs: c.completedAt === null ? null : c.completedAt - c.triggeredAt,
    stateBytes: c.bytes,
    acked: c.acked,
    expected: expectedCount(c),
    avgAlignmentMs: c.acked === 0 ? 0 : Math.round(c.alignmentMs / c.acked),
    reason: c.reason,
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const clock = (t: number, origin: number) => `+${((t - origin) / 1000).toFixed(1)} s`;

export function formatCheckpointTable(rows: readonly CheckpointRow[], origin: number): string {
  const header = ['ID', 'STATUS', 'TRIGGERED', 'DURATION', 'STATE SIZE', 'ACKED', 'AVG ALIGNMENT', 'NOTE'];
  const body = [...rows]
    .sort((a, b) => a.id - b.id)
    .map((r) => [
      String(r.id),
      r.status,
      clock(r.triggeredAt, origin),
      r.durationMs === null ? '-' : `${r.durationMs} ms`,
      formatBytes(r.stateBytes),
      `${r.acked}/${r.expected}`,
      `${r.avgAlignmentMs} ms`,
      [r.kind === 'checkpoint' ? '' : r.kind, r.reason ?? ''].filter(Boolean).join(', '),
    ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}
