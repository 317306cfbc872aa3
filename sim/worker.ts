/** Runs a slice of simulation seeds in a worker thread and reports each result. */
import { parentPort, workerData } from 'node:worker_threads';
import type { CheckpointMode } from '../lib/core/config.js';
import { runSimulation } from './harness.js';
import { TOPOLOGIES } from './topologies.js';

const { topology, seeds, mode } = workerData as { topology: string; seeds: number[]; mode: CheckpointMode };
for (const seed of seeds) {
  const result = await runSimulation({ topology: TOPOLOGIES[topology]!, seed, mode });
  parentPort!.postMessage(result);
}
