/**
 * Envelopes: the JSON body of one SQS message (DESIGN §3). Versioned and compact; a
 * `records` envelope carries a buffer of many records.
 *
 * Channel envelopes (records, barrier, watermark, end) travel on a channel and carry its
 * `seq`. Control envelopes (trigger, commit, poll) come from the coordinator, the recovery
 * manager or a source itself, and are made idempotent by their own ids instead.
 * `end` (end of input on a channel) and `poll` (a source's self-scheduling tick) are the two
 * kinds this implementation adds to the design's list.
 *
 * This module holds the types and the decoder; `envelope-builders.ts` makes the bodies.
 */
import { MalformedEnvelopeError } from '../errors.js';

export const ENVELOPE_VERSION = 1;

export interface Endpoint {
  readonly op: string;
  readonly subtask: number;
}

interface Base {
  readonly v: typeof ENVELOPE_VERSION;
  readonly job: string;
  readonly gen: number;
  readonly from: Endpoint;
  readonly to: Endpoint;
}

export interface RecordsEnvelope extends Base {
  readonly kind: 'records';
  readonly seq: number;
  /** Which input of the receiving stage's head the records feed (StageEdge.input), when not
   *  its first: one channel carries every edge between two stages. */
  readonly in?: number;
  readonly recs: unknown[];
  /** Event timestamps, parallel to `recs`, when the records have them (null: none). */
  readonly ts?: (number | null)[];
  /** A watermark that follows these records (saves a message of its own). */
  readonly wm?: number;
  /** The sender's recorded processing time (TimerService): the receiver's moves up to it. */
  readonly pt?: number;
}
export interface BarrierEnvelope extends Base {
  readonly kind: 'barrier';
  readonly seq: number;
  readonly cp: number;
  /** The checkpoint is a savepoint: snapshot in full, outside the subtask's chain. */
  readonly sp?: boolean;
  /** When the coordinator triggered the checkpoint: processing time moves up to it. */
  readonly pt?: number;
}
export interface WatermarkEnvelope extends Base {
  readonly kind: 'watermark';
  readonly seq: number;
  readonly wm: number;
  /** The sender has no input for now: leave this channel out of the minimum. */
  readonly idle?: boolean;
}
export interface EndEnvelope extends Base {
  readonly kind: 'end';
  readonly seq: number;
}
export interface TriggerEnvelope extends Base {
  readonly kind: 'trigger';
  readonly cp: number;
  /** Stop-with-savepoint: the source stops emitting after this barrier. */
  readonly stop?: boolean;
  /** The checkpoint is a savepoint (see BarrierEnvelope.sp). */
  readonly sp?: boolean;
  /** The coordinator's clock when it triggered the checkpoint (the barriers' `pt`). */
  readonly at?: number;
}
export interface CommitEnvelope extends Base {
  readonly kind: 'commit';
  readonly cp: number;
  /** The job ends with this checkpoint: the sink reports its commit in the manifest. */
  readonly last?: boolean;
}
export interface PollEnvelope extends Base {
  readonly kind: 'poll';
  /** Must equal the source's current round; stale polls are dropped. */
  readonly round: number;
  /** Sender's clock when sending: rate limiting reads time from here, never from a clock. */
  readonly at: number;
  /** Most records this poll may emit (0 = only re-poll): backpressure decided by the sender. */
  readonly max: number;
  /** First poll of a generation: the rate limiter restarts from here. */
  readonly start?: boolean;
  /** What the source's reader may rely on for this read (see SourceReader.limits). */
  readonly limits?: unknown;
}

export type ChannelEnvelope = RecordsEnvelope | BarrierEnvelope | WatermarkEnvelope | EndEnvelope;
export type ControlEnvelope = TriggerEnvelope | CommitEnvelope | PollEnvelope;
export type Envelope = ChannelEnvelope | ControlEnvelope;
export type EnvelopeKind = Envelope['kind'];

export const CHANNEL_KINDS: ReadonlySet<string> = new Set(['records', 'barrier', 'watermark', 'end']);
export const isChannelEnvelope = (e: Envelope): e is ChannelEnvelope => CHANNEL_KINDS.has(e.kind);

/** The coordinator and the recovery manager appear as this endpoint in `from`. */
export const COORDINATOR: Endpoint = { op: '$coordinator', subtask: 0 };

export interface DecodeExpectations {
  readonly job: string;
  /** Stages this queue serves; `to.op` must be one of them. */
  readonly stages: ReadonlySet<string>;
  readonly maxBytes: number;
}

/** Parses and validates a message body. Throws MalformedEnvelopeError naming what is wrong. */
export function decodeEnvelope(body: string, expect: DecodeExpectations): Envelope {
  if (body.length > expect.maxBytes) {
    throw new MalformedEnvelopeError('oversize', `${body.length} bytes exceeds the ${expect.maxBytes}-byte limit`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (e) {
    // The parser's own error stays the cause: its position says where the body broke.
    throw new MalformedEnvelopeError('not-json', e instanceof Error ? e.message : String(e), { cause: e });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new MalformedEnvelopeError('invalid-field', 'body is not a JSON object');
  }
  const e = raw as Record<string, unknown>;
  if (e.v !== ENVELOPE_VERSION) {
    throw new MalformedEnvelopeError('wrong-version', `v=${JSON.stringify(e.v)}, expected ${ENVELOPE_VERSION}`);
  }
  if (e.job !== expect.job) throw new MalformedEnvelopeError('wrong-job', `job=${JSON.stringify(e.job)}`);
  requireCount(e, 'gen', 1);
  const to = endpoint(e, 'to');
  endpoint(e, 'from');
  if (!expect.stages.has(to.op)) throw new MalformedEnvelopeError('unknown-operator', `to.op=${JSON.stringify(to.op)}`);
  switch (e.kind) {
    case 'records':
      requireCount(e, 'seq', 1);
      if (e.in !== undefined) requireCount(e, 'in', 1);
      if (!Array.isArray(e.recs)) throw invalid('recs', e.recs);
      if (e.ts !== undefined && (!Array.isArray(e.ts) || e.ts.length !== e.recs.length)) throw invalid('ts', e.ts);
      if (e.wm !== undefined && typeof e.wm !== 'number') throw invalid('wm', e.wm);
      if (e.pt !== undefined && typeof e.pt !== 'number') throw invalid('pt', e.pt);
      break;
    case 'barrier':
      requireCount(e, 'seq', 1);
      requireCount(e, 'cp', 1);
      if (e.pt !== undefined && typeof e.pt !== 'number') throw invalid('pt', e.pt);
      break;
    case 'watermark':
      requireCount(e, 'seq', 1);
      if (typeof e.wm !== 'number') throw invalid('wm', e.wm);
      break;
    case 'end':
      requireCount(e, 'seq', 1);
      break;
    case 'trigger':
      requireCount(e, 'cp', 1);
      if (e.at !== undefined && typeof e.at !== 'number') throw invalid('at', e.at);
      break;
    case 'commit':
      requireCount(e, 'cp', 1);
      break;
    case 'poll':
      requireCount(e, 'round', 0);
      requireCount(e, 'max', 0);
      if (typeof e.at !== 'number') throw invalid('at', e.at);
      break;
    default:
      throw new MalformedEnvelopeError('invalid-field', `unknown kind ${JSON.stringify(e.kind)}`);
  }
  return e as unknown as Envelope;
}

function invalid(field: string, value: unknown): MalformedEnvelopeError {
  const shown = JSON.stringify(value) ?? 'undefined';
  return new MalformedEnvelopeError('invalid-field', `${field}=${shown.slice(0, 60)}`);
}

function requireCount(e: Record<string, unknown>, field: string, min: number): void {
  const v = e[field];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw invalid(field, v);
}

function endpoint(e: Record<string, unknown>, field: 'from' | 'to'): Endpoint {
  const v = e[field] as Record<string, unknown> | undefined;
  if (typeof v !== 'object' || v === null || typeof v.op !== 'string') throw invalid(field, v);
  if (typeof v.subtask !== 'number' || !Number.isInteger(v.subtask) || v.subtask < 0) throw invalid(field, v);
  return v as unknown as Endpoint;
}
