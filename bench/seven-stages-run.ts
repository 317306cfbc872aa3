/**
 * The seven-stage measurement of `npm run bench:local`: bench/seven-stages.ts run exactly
 * as `tidemark run bench/seven-stages.ts` runs it (runJob: provisioning, the local Lambda
 * host, watching, the exactly-once check), at the examples' checkpoint settings and without
 * faults. What it reports is what the moto runs went wrong on: the run time, and how many
 * checkpoints completed, expired (timed out: CHECKPOINT_EXPIRED) or failed otherwise.
 *
 * runJob opens its own world; with AWS_ENDPOINT_URL set (the benchmark sets it to its own
 * emulator) that world is the benchmark's emulator, used and left running, so one emulator
 * serves every measurement and none is started behind the benchmark's back.
 */
import { fileURLToPath } from 'node:url';
import { compileTopology } from '../lib/core/topology.js';
import type { CheckpointFailureReason } from '../lib/core/manifest.js';
import { runJob, type RunSummary } from '../local/run-job.js';
import sevenStages, { LINES } from './seven-stages.js';

const JOB_FILE = fileURLToPath(new URL('./seven-stages.ts', import.meta.url));
const EXPIRED: CheckpointFailureReason = 'CHECKPOINT_EXPIRED';

export interface SevenStagesFigures {
  readonly stages: number;
  readonly inputLines: number;
  /** As `tidemark run` reports it: from the job's start to its verified end. */
  readonly seconds: number;
  /** From the job's start to its last completed checkpoint (the job's own time, without the check). */
  readonly jobSeconds: number | null;
  readonly status: string;
  /** Expired: timed out (CHECKPOINT_EXPIRED). Failed: aborted for any other reason (trigger, finalize, a restore). */
  readonly checkpoints: { readonly completed: number; readonly expired: number; readonly failed: number };
  readonly restarts: number;
  /** ok, differs, non-deterministic, or not checked (the job did not finish). */
  readonly exactlyOnce: string;
}

export interface SevenStagesRun {
  readonly figures: SevenStagesFigures;
  /** runJob's report lines, for when the figures alone do not explain a bad run. */
  readonly lines: readonly string[];
}

export async function runSevenStages(): Promise<SevenStagesRun> {
  if (!process.env.AWS_ENDPOINT_URL) throw new Error('runSevenStages: set AWS_ENDPOINT_URL to the benchmark’s emulator first');
  const lines: string[] = [];
  const summary = await runJob({
    jobFile: JOB_FILE,
    killRate: 0,
    memory: false,
    verify: true,
    json: false,
    out: (line) => lines.push(line),
    log: (line) => lines.push(line),
    progress: null,
  });
  return { figures: figuresOf(summary), lines };
}

function figuresOf(s: RunSummary): SevenStagesFigures {
  const completed = s.checkpoints.filter((c) => c.status === 'COMPLETED');
  const aborted = s.checkpoints.filter((c) => c.status === 'ABORTED');
  const expired = aborted.filter((c) => c.reason === EXPIRED).length;
  const lastCompletedAt = Math.max(...completed.map((c) => c.triggeredAt + (c.durationMs ?? 0)));
  return {
    stages: compileTopology(sevenStages.build()).stages.length,
    inputLines: LINES,
    seconds: Math.round(s.elapsedMs / 100) / 10,
    jobSeconds: completed.length === 0 ? null : Math.round((lastCompletedAt - s.startedAt) / 100) / 10,
    status: s.status,
    checkpoints: { completed: completed.length, expired, failed: aborted.length - expired },
    restarts: s.restarts,
    exactlyOnce: verdictOf(s.exactlyOnce),
  };
}

/** The verification carries its verdict; RunSummary's type names only `ok`. */
function verdictOf(e: RunSummary['exactlyOnce']): string {
  if (e === null) return 'not checked';
  const verdict = (e as { verdict?: unknown }).verdict;
  return typeof verdict === 'string' ? verdict : e.ok ? 'ok' : 'differs';
}
