/**
 * The one error boundary: every error class of the project, one row each, and the decision
 * `classify` makes for it; then what must hold of the classes themselves (two families, a
 * cause kept by every constructor).
 */
import { describe, expect, it } from 'vitest';
import { AwsRequestError } from '../../lib/adapters/aws/errors.js';
import { NoRetryError } from '../../lib/adapters/aws/retry-strategy.js';
import { decodeEnvelope } from '../../lib/core/wire/envelope.js';
import { classify, type ClassifyOptions, type ErrorDecision } from '../../lib/core/error-boundary.js';
import * as errors from '../../lib/core/errors.js';
import {
  ConfigError,
  InvalidInputError,
  InvariantError,
  ItemTooLargeError,
  JobStateError,
  LostMessageError,
  MalformedEnvelopeError,
  MissingDataError,
  NotYetRestoredError,
  RestoreError,
  RetryableError,
  SendOrderError,
  StateConflictError,
  TerminalError,
  TransientStorageError,
  UserFunctionError,
} from '../../lib/core/errors.js';
import { PropError } from '../../infra/validate-props.js';
import { UsageError } from '../../local/cli-errors.js';
import { EmulatorError } from '../../local/emulator-venv.js';
import { JobNotFoundError } from '../../local/ingest-command.js';
import { JobFileError, JobLoadError } from '../../local/job-file.js';
import { GaveUpError } from '../../local/retry.js';

const cause = new Error('the cause');
const onRecord = UserFunctionError.threw('parse', cause, { record: { n: 1 } });
const onPosition = UserFunctionError.threw('src', cause, { position: 4 });
const onWindow = UserFunctionError.threw('w', cause, { window: { start: 0, end: 10 }, key: 'k' });
const transient = new TransientStorageError('dynamodb GetItem', { cause });
const dead: ClassifyOptions = { onUserError: 'dead-letter' };

const rows: [string, unknown, ErrorDecision, ClassifyOptions?][] = [
  // retryable family: reported failed, redelivered
  ['StateConflictError', new StateConflictError('count/0', '3'), 'retry'],
  ['TransientStorageError', transient, 'retry'],
  ['NotYetRestoredError', new NotYetRestoredError('count/0', 1, 2), 'retry'],
  ['MissingDataError', new MissingDataError('jobs/j/staged/1', 'staged part'), 'retry'],
  ['AwsRequestError', new AwsRequestError('s3', 'GetObject', 'AccessDenied', 403, { cause }), 'retry'],
  ['NoRetryError', new NoRetryError('attempts exhausted'), 'retry'],
  // outside both families: what the runtime has always done with it
  ['a plain Error (an SDK we do not wrap)', new Error('socket hang up'), 'retry'],
  ['a TypeError of a library', new TypeError('x is not a function'), 'retry'],
  ['a thrown string', 'boom', 'retry'],
  ['undefined', undefined, 'retry'],
  // terminal family: fail over
  ['ConfigError', new ConfigError('checkpoints.interval', 'must be positive'), 'terminal'],
  ['LostMessageError', new LostMessageError('src/0->count/0', 3, 5), 'terminal'],
  ['SendOrderError', new SendOrderError('q.fifo', '0'), 'terminal'],
  ['InvariantError', new InvariantError('must hold'), 'terminal'],
  ['InvalidInputError', new InvalidInputError('a key must be a string or a finite number, got object'), 'terminal'],
  ['ItemTooLargeError', new ItemTooLargeError('state/0', 500_000, 400_000), 'terminal'],
  ['RestoreError', new RestoreError('checkpoint 3 is no longer available'), 'terminal'],
  ['JobStateError', new JobStateError('job j was never started'), 'terminal'],
  ['UserFunctionError, policy fail', onRecord, 'terminal', { onUserError: 'fail' }],
  ['UserFunctionError, no policy given', onRecord, 'terminal'],
  ['UserFunctionError on a source position, policy dead-letter', onPosition, 'terminal', dead],
  ['UserFunctionError of a window firing, policy dead-letter', onWindow, 'terminal', dead],
  ['PropError', new PropError('batchSize', 'must be an integer between 1 and 10, got 0'), 'terminal'],
  ['EmulatorError', new EmulatorError('python3 not found'), 'terminal'],
  ['UsageError', new UsageError('missing <job-file>', true), 'terminal'],
  ['JobFileError', new JobFileError('job file x.ts does not exist'), 'terminal'],
  ['JobLoadError', new JobLoadError('x.ts', { cause }), 'terminal'],
  ['JobNotFoundError', new JobNotFoundError('job j does not exist', { cause }), 'terminal'],
  ['GaveUpError', new GaveUpError('reading the job item', 5, 15_000, { cause: transient }), 'terminal'],
  // can never be processed: put aside with its reason
  ['MalformedEnvelopeError', new MalformedEnvelopeError('not-json', 'Unexpected token'), 'dead-letter'],
  ['MalformedEnvelopeError, policy fail', new MalformedEnvelopeError('oversize', '2000 bytes'), 'dead-letter', { onUserError: 'fail' }],
  ['UserFunctionError on a record, policy dead-letter', onRecord, 'dead-letter', dead],
];

describe('classify', () => {
  it.each(rows)('%s → %s', (_name, error, decision, options) => {
    expect(classify(error, options)).toBe(decision);
  });

  it('agrees with the families: retryable → retry, terminal → terminal unless it is dead-lettered', () => {
    for (const [name, error, decision] of rows) {
      if (error instanceof RetryableError) expect(decision, name).toBe('retry');
      if (error instanceof TerminalError && decision !== 'dead-letter') expect(decision, name).toBe('terminal');
    }
  });
});

describe('the error classes', () => {
  it('every error class of lib/core/errors.ts is in one of the two families', () => {
    const exported: [string, unknown][] = Object.entries(errors);
    const classes = exported.filter((e): e is [string, { prototype: unknown }] => typeof e[1] === 'function' && e[1].prototype instanceof Error);
    expect(classes.length).toBeGreaterThan(10);
    for (const [name, cls] of classes) {
      if (['TidemarkError', 'RetryableError', 'TerminalError'].includes(name)) continue;
      const inFamily = cls.prototype instanceof RetryableError || cls.prototype instanceof TerminalError;
      expect(inFamily, name).toBe(true);
    }
  });

  it('every constructor keeps the cause it is given', () => {
    const made: [string, Error][] = [
      ['ConfigError', new ConfigError('f', 'bad', { cause })],
      ['StateConflictError', new StateConflictError('s/0', '1', { cause })],
      ['TransientStorageError', new TransientStorageError('op', { cause })],
      ['NotYetRestoredError', new NotYetRestoredError('s/0', 1, 2, { cause })],
      ['MissingDataError', new MissingDataError('k', 'staged part', { cause })],
      ['LostMessageError', new LostMessageError('c', 1, 3, { cause })],
      ['SendOrderError', new SendOrderError('q', 'g', { cause })],
      ['MalformedEnvelopeError', new MalformedEnvelopeError('not-json', 'x', { cause })],
      ['InvariantError', new InvariantError('x', { cause })],
      ['InvalidInputError', new InvalidInputError('x', { cause })],
      ['ItemTooLargeError', new ItemTooLargeError('k', 2, 1, { cause })],
      ['AwsRequestError', new AwsRequestError('sqs', 'SendMessageBatch', 'InvalidMessageContents', 200, { cause })],
      ['EmulatorError', new EmulatorError('x', { cause })],
      ['UsageError', new UsageError('x', false, { cause })],
      ['PropError', new PropError('jobModule', 'x', { cause })],
      ['JobNotFoundError', new JobNotFoundError('x', { cause })],
    ];
    for (const [name, error] of made) expect(error.cause, name).toBe(cause);
  });

  it('keeps the messages users and tests match on', () => {
    expect(new MissingDataError('jobs/j/p1', 'staged part').message).toBe('staged part jobs/j/p1 is missing');
    expect(new AwsRequestError('s3', 'GetObject', 'AccessDenied', 403, { cause: new Error('Access Denied') }).message).toBe(
      's3 GetObject failed: AccessDenied (HTTP 403): Access Denied',
    );
    expect(new TransientStorageError('dynamodb Query', { cause }).message).toBe('dynamodb Query failed transiently');
    const prop = new PropError('batchSize', 'must be an integer between 1 and 10, got 0');
    expect(prop).toBeInstanceOf(ConfigError);
    expect([prop.message, prop.field, prop.name]).toEqual(['TidemarkJob batchSize: must be an integer between 1 and 10, got 0', 'TidemarkJob batchSize', 'PropError']);
    expect(new UsageError('x').name).toBe('UsageError');
    expect(new AwsRequestError('s3', 'GetObject', 'AccessDenied', 403, { cause }).name).toBe('AwsRequestError');
  });

  it('a body that is not JSON is dead-lettered with the parser error as its cause', () => {
    let caught: unknown;
    try {
      decodeEnvelope('{"v":1,', { job: 'j', stages: new Set(['s']), maxBytes: 1000 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MalformedEnvelopeError);
    expect((caught as MalformedEnvelopeError).reason).toBe('not-json');
    expect((caught as Error).cause).toBeInstanceOf(SyntaxError);
    expect((caught as Error).message).toBe(`malformed envelope (not-json): ${((caught as Error).cause as Error).message}`);
    expect(classify(caught)).toBe('dead-letter');
  });
});
