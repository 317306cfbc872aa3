/**
 * The job graph the web UI and `/jobs/:id` show, from observed facts: per stage the chain,
 * parallelism, queue depth as backpressure, records in and out as of the latest completed
 * checkpoint, rates between the two latest, the watermark per subtask and the least of them;
 * edges with Flink's ship strategy names.
 */
import { describe, expect, it } from 'vitest';
import { collect, generator, job } from '../../lib/api/index.js';
import type { AckInfo, CheckpointAcks, CheckpointRecord } from '../../lib/core/manifest.js';
import { compileTopology } from '../../lib/core/topology.js';
import { backpressureLevel, jobGraphView, type AckedCheckpoint } from '../../local/ui/job-graph-view.js';

const j = job('graph-view', { parallelism: 2 });
j.source('lines', generator({ count: 10, make: (i) => `w${i}` }), { parallelism: 1 })
  .flatMap('words', (l) => [l])
  .keyBy((w) => w)
  .aggregate('counts', { create: () => 0, add: (n: number) => n + 1, result: (n) => n })
  .rebalance()
  .sink('out', collect());
const stages = compileTopology(j.build()).stages;

const ack = (progress: number, emitted: number, watermark: number | null): AckInfo => ({ key: 'k', bytes: 1, alignmentMs: 0, finished: false, progress, emitted, watermark, at: 0 });

function checkpoint(id: number, triggeredAt: number, acks: CheckpointAcks): AckedCheckpoint {
  return { record: { id, triggeredAt } as unknown as CheckpointRecord, acks };
}

describe('jobGraphView', () => {
  it('shows the chains, their edges and each stage queue as backpressure', () => {
    const depths = new Map([[stages.find((st) => st.id === 'counts')!.queue, { visible: 150, inFlight: 4 }]]);
    const view = jobGraphView({ stages, depths, latest: null, previous: null });
    expect(view.plan.nodes.map((n) => [n.id, n.parallelism, n.inputs.map((i) => `${i.id}:${i.ship_strategy}`)])).toEqual([
      ['lines', 1, []],
      ['words', 2, ['lines:REBALANCE']],
      ['counts', 2, ['words:HASH']],
      ['out', 2, ['counts:REBALANCE']],
    ]);
    expect(view.vertices.map((v) => [v.id, v.operators, v.backpressure])).toEqual([
      ['lines', ['lines'], 'ok'],
      ['words', ['words'], 'ok'],
      ['counts', ['counts'], 'high'],
      ['out', ['out'], 'ok'],
    ]);
    // Before any checkpoint completed there are no figures, and nothing pretends there are.
    expect(view.vertices[2]!.metrics).toEqual({ 'read-records': null, 'write-records': null, 'read-records-per-second': null, 'write-records-per-second': null, asOfCheckpoint: null });
    expect(view.vertices[2]!.watermark).toBeNull();
  });

  it('takes records and watermarks from the latest checkpoint and rates from the two latest', () => {
    const previous = checkpoint(4, 10_000, { 'counts/0': ack(100, 100, 500), 'counts/1': ack(50, 50, 400) });
    const latest = checkpoint(5, 12_000, { 'counts/0': ack(300, 300, 900), 'counts/1': ack(150, 150, null) });
    const counts = jobGraphView({ stages, depths: new Map(), latest, previous }).vertices[2]!;
    expect(counts.metrics).toEqual({ 'read-records': 450, 'write-records': 450, 'read-records-per-second': 150, 'write-records-per-second': 150, asOfCheckpoint: 5 });
    expect(counts.subtasks).toEqual([
      { subtask: 0, recordsIn: 300, recordsOut: 300, watermark: 900 },
      { subtask: 1, recordsIn: 150, recordsOut: 150, watermark: null },
    ]);
    // One subtask without a watermark: the stage has none yet (Flink's minimum over subtasks).
    expect(counts.watermark).toBeNull();
    const both = checkpoint(5, 12_000, { 'counts/0': ack(300, 300, 900), 'counts/1': ack(150, 150, 700) });
    expect(jobGraphView({ stages, depths: new Map(), latest: both, previous: null }).vertices[2]!.watermark).toBe(700);
    // A stage whose acks are missing (the sink's stage here) has no figures.
    expect(jobGraphView({ stages, depths: new Map(), latest: both, previous }).vertices[3]!.metrics['read-records']).toBeNull();
  });

  it('names backpressure levels by queue depth', () => {
    expect([0, 9, 10, 99, 100, 5000].map(backpressureLevel)).toEqual(['ok', 'ok', 'low', 'low', 'high', 'high']);
  });
});
