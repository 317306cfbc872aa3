/**
 * The one place envelope bodies are made. Each builder returns the JSON text sent as the
 * SQS message body.
 *
 * The key order of every body is fixed: a body is compared, deduplicated and sized as text
 * (the simulation replays runs byte for byte), so a builder writes its keys in the order
 * the senders always have. Channel envelopes and a source's own poll put `kind` before the
 * endpoints; the coordinator's control envelopes put it after them.
 */
import {
  COORDINATOR,
  ENVELOPE_VERSION,
  type BarrierEnvelope,
  type CommitEnvelope,
  type Endpoint,
  type EndEnvelope,
  type PollEnvelope,
  type RecordsEnvelope,
  type TriggerEnvelope,
  type WatermarkEnvelope,
} from './envelope.js';

/** Who an envelope is from and for, in which job and generation. */
export interface EnvelopeHeader {
  readonly job: string;
  readonly gen: number;
  readonly from: Endpoint;
  readonly to: Endpoint;
}

/** The header of a control envelope the coordinator (or the recovery manager) sends to `to`. */
export const fromCoordinator = (job: string, gen: number, to: Endpoint): EnvelopeHeader => ({ job, gen, from: COORDINATOR, to });

/** What a poll carries besides its header (see PollEnvelope). */
export interface PollFields {
  readonly round: number;
  readonly at: number;
  readonly max: number;
  readonly limits?: unknown;
}

/** Encodes a records envelope around its records already encoded as one JSON array
 *  (and, when present, the timestamps as one JSON array): the runtime sizes buffers by it. */
export function encodeRecords(
  header: Omit<RecordsEnvelope, 'kind' | 'recs' | 'ts' | 'seq' | 'wm' | 'in' | 'pt'>,
  seq: number,
  recordsJson: string,
  timestampsJson: string | undefined,
  watermark?: number,
  input = 0,
  processingTime?: number,
): string {
  const head =
    `{"v":${header.v},"job":${JSON.stringify(header.job)},"gen":${header.gen},"kind":"records",` +
    `"from":${JSON.stringify(header.from)},"to":${JSON.stringify(header.to)},"seq":${seq},` +
    (input === 0 ? '' : `"in":${input},`) +
    (watermark === undefined ? '' : `"wm":${watermark},`) +
    (processingTime === undefined ? '' : `"pt":${processingTime},`);
  const ts = timestampsJson === undefined ? '' : `,"ts":${timestampsJson}`;
  return `${head}"recs":${recordsJson}${ts}}`;
}

/** The `recs` array of a body made by `encodeRecords`, as JSON text, without parsing it. */
export function recordsJsonOf(body: string, hasTimestamps: boolean): string {
  const start = body.indexOf('"recs":') + 7;
  const end = hasTimestamps ? body.lastIndexOf(',"ts":') : body.length - 1;
  return body.slice(start, end);
}

/** The head of a channel envelope or a source's own poll: `kind` before the endpoints. */
const kindFirst = <K extends string>(h: EnvelopeHeader, kind: K) => ({ v: ENVELOPE_VERSION as typeof ENVELOPE_VERSION, job: h.job, gen: h.gen, kind, from: h.from, to: h.to });
/** The head of a control envelope from the coordinator: `kind` after the endpoints. */
const kindLast = <K extends string>(h: EnvelopeHeader, kind: K) => ({ v: ENVELOPE_VERSION as typeof ENVELOPE_VERSION, job: h.job, gen: h.gen, from: h.from, to: h.to, kind });

export const envelopes = {
  /** A records buffer for the receiver's input `input`: see `encodeRecords`; `watermark` rides on it. */
  records: (h: EnvelopeHeader, seq: number, recordsJson: string, timestampsJson: string | undefined, watermark?: number, input = 0, processingTime?: number): string =>
    encodeRecords({ v: ENVELOPE_VERSION, job: h.job, gen: h.gen, from: h.from, to: h.to }, seq, recordsJson, timestampsJson, watermark, input, processingTime),

  watermark: (h: EnvelopeHeader, seq: number, wm: number, idle: boolean): string =>
    JSON.stringify({
      ...kindFirst(h, 'watermark'),
      seq,
      wm,
      ...(idle ? { idle: true as const } : {}),
    } satisfies WatermarkEnvelope),

  barrier: (h: EnvelopeHeader, seq: number, cp: number, savepoint = false, processingTime?: number): string =>
    JSON.stringify({ ...kindFirst(h, 'barrier'), seq, cp, ...(savepoint ? { sp: true } : {}), ...(processingTime === undefined ? {} : { pt: processingTime }) } satisfies BarrierEnvelope),

  end: (h: EnvelopeHeader, seq: number): string =>
    JSON.stringify({ ...kindFirst(h, 'end'), seq } satisfies EndEnvelope),

  trigger: (h: EnvelopeHeader, cp: number, stop: boolean, savepoint = false, at?: number): string =>
    JSON.stringify({ ...kindLast(h, 'trigger'), cp, ...(stop ? { stop: true } : {}), ...(savepoint ? { sp: true } : {}), ...(at === undefined ? {} : { at }) } satisfies TriggerEnvelope),

  commit: (h: EnvelopeHeader, cp: number, last: boolean): string =>
    JSON.stringify({ ...kindLast(h, 'commit'), cp, ...(last ? { last: true } : {}) } satisfies CommitEnvelope),

  /** A generation's first poll of a source subtask, sent by the recovery manager. */
  startPoll: (h: EnvelopeHeader, p: PollFields): string =>
    JSON.stringify({
      ...kindLast(h, 'poll'),
      round: p.round,
      at: p.at,
      max: p.max,
      start: true,
      ...(p.limits === undefined ? {} : { limits: p.limits }),
    } satisfies PollEnvelope),

  /** A source subtask's poll of itself (its next read). */
  poll: (h: EnvelopeHeader, p: PollFields): string =>
    JSON.stringify({
      ...kindFirst(h, 'poll'),
      round: p.round,
      at: p.at,
      max: p.max,
      ...(p.limits === undefined ? {} : { limits: p.limits }),
    } satisfies PollEnvelope),
};
