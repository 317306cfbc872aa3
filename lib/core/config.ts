/**
 * Job-wide settings with Flink's names and meaning, their defaults, and validation.
 * Validation runs when the job is defined, so a bad setting fails before anything deploys.
 * Every failure is a ConfigError naming the field (e.g. `checkpoints.timeout`).
 */
import { ConfigError } from './errors.js';

export type CheckpointMode = 'exactly-once' | 'at-least-once';

export interface CheckpointSettings {
  /** Milliseconds between checkpoint triggers; `null` turns periodic checkpoints off
   *  (a bounded job still takes its final checkpoint at end of input, as Flink does). */
  readonly interval: number | null;
  /** A pending checkpoint older than this is aborted with reason TIMEOUT. */
  readonly timeout: number;
  readonly minPauseBetweenCheckpoints: number;
  readonly maxConcurrentCheckpoints: number;
  /** Consecutive failed checkpoints tolerated before the job fails over. */
  readonly tolerableFailedCheckpoints: number;
  readonly mode: CheckpointMode;
  /** Completed checkpoints kept; older ones are deleted (never savepoints). */
  readonly retained: number;
  /** A snapshot writes only the operator state that changed since the subtask's previous
   *  one, chained onto it (Flink's incremental checkpoints). Savepoints are always full. */
  readonly incremental: boolean;
  /** With `incremental`: a subtask writes a full snapshot at least once in this many
   *  checkpoints (and whenever its chain's changes outgrow the full one), so a restore reads
   *  at most this many objects per subtask and retention can delete what is older. */
  readonly fullSnapshotEvery: number;
}

export const DEFAULT_CHECKPOINTS: CheckpointSettings = {
  interval: null,
  timeout: 10 * 60_000,
  minPauseBetweenCheckpoints: 0,
  maxConcurrentCheckpoints: 1,
  tolerableFailedCheckpoints: 0,
  mode: 'exactly-once',
  retained: 1,
  incremental: true,
  fullSnapshotEvery: 20,
};

export type RestartStrategy =
  | { readonly type: 'none' }
  | { readonly type: 'fixed-delay'; readonly attempts: number; readonly delay: number }
  | {
      readonly type: 'failure-rate';
      readonly maxFailuresPerInterval: number;
      readonly failureRateInterval: number;
      readonly delay: number;
    }
  | {
      readonly type: 'exponential-delay';
      readonly initialBackoff: number;
      readonly maxBackoff: number;
      readonly backoffMultiplier: number;
      /** A failure-free run this long resets the backoff to `initialBackoff`. */
      readonly resetBackoffThreshold: number;
      /** 0..1: the delay is varied by up to this fraction, from a sample the runtime supplies. */
      readonly jitterFactor: number;
      readonly attempts: number;
    };

/** Flink 1.19's default when checkpointing is on. */
export const DEFAULT_RESTART: RestartStrategy = {
  type: 'exponential-delay',
  initialBackoff: 1000,
  maxBackoff: 60_000,
  backoffMultiplier: 1.5,
  resetBackoffThreshold: 60 * 60_000,
  jitterFactor: 0.1,
  attempts: Number.MAX_SAFE_INTEGER,
};

/**
 * What happens to a record a user function throws on (a map, a keyBy, a reduce, a window's
 * add, …). `fail`: the job fails over, as Flink does, and the restart strategy decides.
 * `dead-letter`: the record is skipped at the operator that threw — whatever that call did
 * to state or emitted is undone — and written to the job's dead-letter output with the
 * operator, subtask and error. Errors not tied to one record (a window firing, a record too
 * big for a buffer, a source's own reader) always fail over.
 */
export type UserErrorPolicy = 'fail' | 'dead-letter';

export const DEFAULT_USER_ERROR_POLICY: UserErrorPolicy = 'fail';

export function userErrorPolicy(given: unknown = DEFAULT_USER_ERROR_POLICY): UserErrorPolicy {
  if (given !== 'fail' && given !== 'dead-letter') {
    throw new ConfigError('onUserError', `must be 'fail' or 'dead-letter', got ${describe(given)}`);
  }
  return given;
}

export const KIB = 1024;
export const DEFAULT_BUFFER_BYTES = 256 * KIB;
export const MAX_BUFFER_BYTES = 1024 * KIB;
export const DEFAULT_MAX_PARALLELISM = 128;
/** Flink's upper bound for maxParallelism (2^15). */
export const MAX_MAX_PARALLELISM = 32_768;

export function requireInt(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ConfigError(field, `must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`;
    throw new ConfigError(field, `must be ${range}, got ${value}`);
  }
  return value;
}

export function requireNumber(field: string, value: unknown, min: number, max = Number.POSITIVE_INFINITY): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Number.POSITIVE_INFINITY ? `at least ${min}` : `between ${min} and ${max}`;
    throw new ConfigError(field, `must be a number ${range}, got ${describe(value)}`);
  }
  return value;
}

export function requireName(field: string, value: unknown, maxLength = 40): string {
  if (typeof value !== 'string' || !/^[a-zA-Z][a-zA-Z0-9-]*$/.test(value) || value.length > maxLength) {
    throw new ConfigError(
      field,
      `must start with a letter and hold only letters, digits and '-', at most ${maxLength} characters; got ${describe(value)}`,
    );
  }
  return value;
}

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function rejectUnknownKeys(field: string, given: object, known: readonly string[]): void {
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) throw new ConfigError(`${field}.${key}`, `is not a setting; known: ${known.join(', ')}`);
  }
}

/** Fills defaults and validates. Positive durations are required where zero makes no sense. */
export function checkpointSettings(given: Partial<CheckpointSettings> = {}): CheckpointSettings {
  rejectUnknownKeys('checkpoints', given, Object.keys(DEFAULT_CHECKPOINTS));
  const s = { ...DEFAULT_CHECKPOINTS, ...given };
  if (s.interval !== null) requireInt('checkpoints.interval', s.interval, 10);
  requireInt('checkpoints.timeout', s.timeout, 1);
  requireInt('checkpoints.minPauseBetweenCheckpoints', s.minPauseBetweenCheckpoints, 0);
  requireInt('checkpoints.maxConcurrentCheckpoints', s.maxConcurrentCheckpoints, 1);
  requireInt('checkpoints.tolerableFailedCheckpoints', s.tolerableFailedCheckpoints, 0);
  requireInt('checkpoints.retained', s.retained, 1);
  requireInt('checkpoints.fullSnapshotEvery', s.fullSnapshotEvery, 1);
  if (typeof s.incremental !== 'boolean') throw new ConfigError('checkpoints.incremental', `must be true or false, got ${describe(s.incremental)}`);
  if (s.mode !== 'exactly-once' && s.mode !== 'at-least-once') {
    throw new ConfigError('checkpoints.mode', `must be 'exactly-once' or 'at-least-once', got ${describe(s.mode)}`);
  }
  return s;
}

export function restartStrategy(given: RestartStrategy | undefined): RestartStrategy {
  if (given === undefined) return DEFAULT_RESTART;
  const f = 'restartStrategy';
  switch (given.type) {
    case 'none':
      return given;
    case 'fixed-delay':
      requireInt(`${f}.attempts`, given.attempts, 0);
      requireInt(`${f}.delay`, given.delay, 0);
      return given;
    case 'failure-rate':
      requireInt(`${f}.maxFailuresPerInterval`, given.maxFailuresPerInterval, 1);
      requireInt(`${f}.failureRateInterval`, given.failureRateInterval, 1);
      requireInt(`${f}.delay`, given.delay, 0);
      return given;
    case 'exponential-delay': {
      const s = { ...DEFAULT_RESTART, ...given } as Extract<RestartStrategy, { type: 'exponential-delay' }>;
      requireInt(`${f}.initialBackoff`, s.initialBackoff, 1);
      requireInt(`${f}.maxBackoff`, s.maxBackoff, s.initialBackoff);
      requireNumber(`${f}.backoffMultiplier`, s.backoffMultiplier, 1);
      requireInt(`${f}.resetBackoffThreshold`, s.resetBackoffThreshold, 1);
      requireNumber(`${f}.jitterFactor`, s.jitterFactor, 0, 1);
      requireInt(`${f}.attempts`, s.attempts, 0);
      return s;
    }
    default:
      throw new ConfigError(
        `${f}.type`,
        `must be one of none, fixed-delay, failure-rate, exponential-delay; got ${describe((given as { type: unknown }).type)}`,
      );
  }
}
