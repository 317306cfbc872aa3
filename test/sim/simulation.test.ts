/**
 * The deterministic simulation as part of the test suite: whole jobs under seeded
 * interleavings with crashes between any two steps, zombies, duplicates, checkpoint
 * timeouts and restores (rescaling among them) must commit exactly the sequential result.
 * `npm run sim` runs many more seeds.
 */
import { describe, expect, it } from 'vitest';
import { decideTick, type CoordinatorFacts } from '../../lib/core/coordinator.js';
import { withoutAlignmentBuffer, withoutDedup, withoutFencing } from '../../sim/broken-deciders.js';
import { runSimulation } from '../../sim/harness.js';
import { TOPOLOGIES } from '../../sim/topologies.js';

const SEEDS = 120;

describe.each(Object.keys(TOPOLOGIES))('simulation of %s', (name) => {
  it(`exactly-once holds for ${SEEDS} seeds`, async () => {
    const failures: string[] = [];
    const totals = { restores: 0, crashed: 0, duplicates: 0, fromCheckpoint: 0, restoreCrashes: 0, chained: 0 };
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runSimulation({ topology: TOPOLOGIES[name]!, seed, mode: 'exactly-once' });
      if (r.violations.length > 0) failures.push(`seed ${seed}: ${r.violations.join(' | ')}`);
      totals.restores += r.stats.restores ?? 0;
      totals.crashed += r.stats.crashed ?? 0;
      totals.duplicates += r.stats.duplicates ?? 0;
      totals.fromCheckpoint += r.stats['restored.fromCheckpoint'] ?? 0;
      totals.restoreCrashes += r.stats.restoreCrashes ?? 0;
      totals.chained += r.stats['restored.chainedObjects'] ?? 0;
    }
    expect(failures).toEqual([]);
    // The faults really happened (a harness that injects nothing proves nothing).
    expect(totals.crashed).toBeGreaterThan(SEEDS / 2);
    expect(totals.duplicates).toBeGreaterThan(SEEDS);
    expect(totals.restores).toBeGreaterThan(SEEDS / 2);
    expect(totals.fromCheckpoint).toBeGreaterThan(SEEDS / 4);
    // Restores crash half-way too (at their port calls) and are resumed.
    expect(totals.restoreCrashes).toBeGreaterThan(0);
    // Restores read incremental chains (deltas on a full snapshot), rescaling ones among them.
    expect(totals.chained).toBeGreaterThan(0);
  });

  it('at-least-once loses nothing for 20 seeds', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = await runSimulation({ topology: TOPOLOGIES[name]!, seed, mode: 'at-least-once' });
      expect(r.violations, `seed ${seed}`).toEqual([]);
    }
  });
});

describe('the harness can fail', () => {
  // Each mechanism switched off alone, by a broken data-path decider swapped in for this
  // test only (sim/broken-deciders.ts): the simulation must notice.
  it.each([
    ['sequence dedup', withoutDedup, 'fanin'],
    ['generation fencing', withoutFencing, 'rescale'],
    ['the alignment buffer', withoutAlignmentBuffer, 'chain'],
  ] as const)('without %s it reports violations', async (_what, subtaskDecide, topology) => {
    let caught = 0;
    let seed = 1;
    for (; seed <= 60 && caught < 2; seed++) {
      const r = await runSimulation({ topology: TOPOLOGIES[topology]!, seed, mode: 'exactly-once', subtaskDecide });
      if (r.violations.length > 0) caught++;
    }
    expect(caught, `violations found in seeds 1..${seed - 1}`).toBe(2);
  });

  it('with a coordinator that ends the job before its sinks committed, FINISHED-implies-committed reports it', async () => {
    const early = (f: CoordinatorFacts) => decideTick({ ...f, sinkSubtasks: [] });
    const caught: string[] = [];
    for (let seed = 1; seed <= 30 && caught.length < 2; seed++) {
      const r = await runSimulation({ topology: TOPOLOGIES.chain!, seed, mode: 'exactly-once', decide: early });
      caught.push(...r.violations.filter((v) => v.startsWith('FINISHED')));
    }
    expect(caught.length).toBe(2);
  });

  it('with retention that deletes completed checkpoints outright, the snapshot-deletion check reports it', async () => {
    // Everything discard would mark DISCARDED first goes to `forget` (snapshots, then item).
    const hasty = (f: CoordinatorFacts) => decideTick(f).map((d) => (d.kind === 'discard' ? { ...d, discard: [], retire: [], forget: [...d.discard, ...d.retire, ...d.forget] } : d));
    const caught: string[] = [];
    for (let seed = 1; seed <= 30 && caught.length < 2; seed++) {
      const r = await runSimulation({ topology: TOPOLOGIES.chain!, seed, mode: 'exactly-once', decide: hasty });
      caught.push(...r.violations.filter((v) => /^the snapshots of checkpoint \d+ were deleted while it was COMPLETED$/.test(v)));
    }
    expect(caught.length).toBeGreaterThanOrEqual(2);
  });

  it('with retention that ignores snapshot chains, the chain check reports it', async () => {
    // Completed checkpoints that later chains still read are deleted as if whole.
    const chainBlind = (f: CoordinatorFacts) => decideTick(f).map((d) => (d.kind === 'discard' ? { ...d, discard: [...d.discard, ...d.retire], retire: [] } : d));
    const caught: string[] = [];
    for (let seed = 1; seed <= 60 && caught.length < 2; seed++) {
      const r = await runSimulation({ topology: TOPOLOGIES.chain!, seed, mode: 'exactly-once', decide: chainBlind });
      caught.push(...r.violations.filter((v) => /^the snapshot of \S+ in checkpoint \d+ was deleted while checkpoint \d+ \(COMPLETED\) chains onto it$/.test(v)));
    }
    expect(caught.length).toBeGreaterThanOrEqual(2);
  });

  it('lost responses happen, and every run still commits exactly the sequential result', async () => {
    let lost = 0;
    let retried = 0;
    for (let seed = 1; seed <= 30; seed++) {
      const r = await runSimulation({ topology: TOPOLOGIES.chain!, seed, mode: 'exactly-once' });
      expect(r.violations, `seed ${seed}`).toEqual([]);
      lost += r.stats.lostResponses ?? 0;
      retried += r.stats.retriedTasks ?? 0;
    }
    expect(lost).toBeGreaterThan(30);
    expect(retried).toBeGreaterThan(0);
  });
});
