/**
 * Upgrades with state (Flink's uid matching and state-compatibility checks): whether the job
 * a restore is about to start can take the state of the checkpoint or savepoint it starts
 * from, decided from the checkpoint's state descriptor and the new job graph alone, so it is
 * said before any state is touched.
 *
 * State is matched to operators by operator name (Flink's `uid`):
 * - an operator of the new job the savepoint does not know starts with empty state (a note);
 * - an operator of the savepoint that holds state and that the new job lacks is a problem,
 *   unless `allowNonRestoredState`, when its state is dropped (a note);
 * - an operator whose kind changed cannot take its old state; neither can a state whose kind
 *   changed (a process function's `value` now a `map`, a window now sliding);
 * - keyed state is partitioned by the key function and by maxParallelism's key groups: a
 *   changed key function (its source text, see `keyFingerprint`) or maxParallelism is a problem.
 * A state an operator no longer declares is kept but no longer read; a new one starts empty.
 */
import type { StateCompatibilityProblem } from './errors.js';
import { StateCompatibilityError } from './errors.js';
import type { JobGraph } from './graph.js';
import type { CheckpointRecord } from './manifest.js';
import { describeState } from './state-descriptor.js';
import type { OperatorStateDescriptor, StateDescriptor } from './wire/state-descriptor.js';

export interface CompatibilityOptions {
  /** Drop the state of operators the new job lacks instead of refusing (`--allow-non-restored-state`). */
  readonly allowNonRestoredState: boolean;
}

export interface Compatibility {
  /** What the restore does that its user should hear of: operators that start empty, state dropped. */
  readonly notes: readonly string[];
  /** Why it cannot proceed; empty when it can. */
  readonly problems: readonly StateCompatibilityProblem[];
}

/** How messages name what a restore starts from: `savepoint before-upgrade`, `checkpoint 7`. */
export const restoreOrigin = (c: Pick<CheckpointRecord, 'id' | 'savepoint'>): string => (c.savepoint ? `savepoint ${c.savepoint}` : `checkpoint ${c.id}`);

/**
 * `saved` null: the checkpoint's generation predates state descriptors. Nothing can be
 * compared, and the restore proceeds as it always did (treated as compatible, no notes).
 */
export function checkStateCompatibility(saved: StateDescriptor | null, graph: JobGraph, origin: string, options: CompatibilityOptions): Compatibility {
  if (saved === null) return { notes: [], problems: [] };
  const next = describeState(graph, saved.gen);
  const notes: string[] = [];
  const problems: StateCompatibilityProblem[] = [];
  const problem = (kind: StateCompatibilityProblem['kind'], operator: string | null, state: string | null, message: string) =>
    problems.push({ kind, operator, state, message });
  const savedByName = new Map(saved.operators.map((o) => [o.name, o]));
  const nextByName = new Map(next.operators.map((o) => [o.name, o]));

  const keyed = saved.operators.some((o) => o.key !== null && o.states.length > 0);
  if (keyed && saved.maxParallelism !== graph.maxParallelism) {
    problem(
      'max-parallelism',
      null,
      null,
      `${origin} was taken with maxParallelism ${saved.maxParallelism} and the new job has ${graph.maxParallelism}: keyed state is split into maxParallelism key groups, so it must stay ${saved.maxParallelism}`,
    );
  }
  for (const old of saved.operators) {
    if (old.states.length === 0) continue;
    const now = nextByName.get(old.name);
    if (!now) {
      if (options.allowNonRestoredState) notes.push(`operator "${old.name}" of ${origin} is not in the new job: its state (${statesText(old)}) is dropped (--allow-non-restored-state)`);
      else problem('missing-operator', old.name, null, `operator "${old.name}" in ${origin} holds state (${statesText(old)}) that the new job has no operator for; restore with --allow-non-restored-state to drop it`);
      continue;
    }
    if (now.kind !== old.kind) {
      problem('operator-kind', old.name, null, `operator "${old.name}" in ${origin} is a ${old.kind} holding state (${statesText(old)}); in the new job it is a ${now.kind}, which cannot take that state`);
      continue;
    }
    if (old.key !== null && now.key !== null && old.key !== now.key) {
      problem('key-function', old.name, null, `operator "${old.name}" in ${origin} was keyed by another key function (${old.key}, now ${now.key}): its keyed state is partitioned by that key; keep the keyBy function unchanged`);
    }
    for (const state of old.states) {
      const kept = now.states.find((s) => s.name === state.name);
      if (!kept) notes.push(`operator "${old.name}": state "${state.name}" (${state.kind}) of ${origin} is no longer declared and is not read`);
      else if (kept.kind !== state.kind) {
        problem('state-kind', old.name, state.name, `operator "${old.name}" in ${origin} holds state "${state.name}" as ${state.kind}; the new job's "${old.name}" holds it as ${kept.kind}: a state cannot change kind across a restore`);
      }
    }
  }
  for (const op of next.operators) {
    if (op.states.length === 0) continue;
    const old = savedByName.get(op.name);
    if (!old) notes.push(`operator "${op.name}" is new: it starts with empty state (${statesText(op)})`);
    else if (old.kind === op.kind) {
      for (const s of op.states) if (!old.states.some((o) => o.name === s.name)) notes.push(`operator "${op.name}": state "${s.name}" (${s.kind}) is new and starts empty`);
    }
  }
  return { notes, problems };
}

/** The notes of a compatible restore; a StateCompatibilityError naming every problem otherwise. */
export function requireCompatible(c: Compatibility): readonly string[] {
  if (c.problems.length > 0) throw new StateCompatibilityError(c.problems);
  return c.notes;
}

const statesText = (o: OperatorStateDescriptor) => o.states.map((s) => `${s.name}: ${s.kind}`).join(', ');
