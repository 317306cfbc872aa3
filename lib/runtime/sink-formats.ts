/**
 * How an S3 sink's transaction becomes one object, and back: NDJSON (the default), CSV
 * (RFC 4180, a header row, through csv-stringify / csv-parse) or Parquet (through
 * hyparquet-writer / hyparquet). CSV and Parquet hold the declared columns only, each of one
 * type; a record that does not fit them is refused where it reaches the sink (`misfit`), as a
 * user error of that sink, so a commit never meets one: a commit must not fail on data.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { ColumnType, S3Format, SinkSpec } from '../core/graph.js';

const NDJSON: S3Format = { kind: 'ndjson' };

export const formatOf = (format: S3Format | undefined): S3Format => format ?? NDJSON;

/** Whether a sink checks each record that reaches it (`misfit`): a CSV or Parquet S3 sink. */
export const checksRecords = (sink: SinkSpec): boolean => sink.kind === 's3' && formatOf(sink.format).kind !== 'ndjson';

/** The object key's extension. */
export const extensionOf = (format: S3Format | undefined): string => formatOf(format).kind;

const PARQUET_TYPES: Record<ColumnType, 'STRING' | 'INT32' | 'DOUBLE' | 'BOOLEAN' | 'JSON'> = { string: 'STRING', int: 'INT32', double: 'DOUBLE', boolean: 'BOOLEAN', json: 'JSON' };

const fits: Record<ColumnType, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  int: (v) => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2 ** 31 - 1,
  double: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  json: () => true,
};

/** Why `record` does not fit the format's columns, or null: a missing field is a null cell. */
export function misfit(format: S3Format | undefined, record: unknown): string | null {
  const f = formatOf(format);
  if (f.kind === 'ndjson') return null;
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return `a ${f.kind} sink takes objects, got ${Array.isArray(record) ? 'an array' : typeof record}`;
  for (const [name, type] of f.columns) {
    const v = (record as Record<string, unknown>)[name];
    if (v !== undefined && v !== null && !fits[type](v)) return `field ${name} is ${JSON.stringify(v)?.slice(0, 40)}, not ${type === 'int' ? 'a 32-bit int' : `a ${type}`}`;
  }
  return null;
}

/** A record as the format keeps it: its declared columns only (what reading it back gives). */
export function projected(format: S3Format | undefined, record: unknown): unknown {
  const f = formatOf(format);
  if (f.kind === 'ndjson') return record;
  const r = record as Record<string, unknown>;
  return Object.fromEntries(f.columns.map(([name, type]) => [name, r[name] ?? (f.kind === 'csv' && type === 'string' ? '' : null)]));
}

/** One transaction's object body. */
export function encodeObject(format: S3Format | undefined, records: readonly unknown[]): string | Uint8Array {
  const f = formatOf(format);
  if (f.kind === 'ndjson') return records.map((r) => JSON.stringify(r)).join('\n') + (records.length > 0 ? '\n' : '');
  const cell = (r: unknown, name: string) => (r as Record<string, unknown>)[name] ?? null;
  if (f.kind === 'csv') {
    const rows = records.map((r) => f.columns.map(([name, type]) => csvCell(cell(r, name), type)));
    return stringify(rows, { header: true, columns: f.columns.map(([name]) => name) });
  }
  const columnData = f.columns.map(([name, type]) => ({ name, data: records.map((r) => cell(r, name)), type: PARQUET_TYPES[type] }));
  return new Uint8Array(parquetWriteBuffer({ columnData }));
}

const csvCell = (v: unknown, type: ColumnType): string => (v === null ? '' : type === 'json' ? JSON.stringify(v) : String(v));

/** The records of an object written by `encodeObject` (bytes for Parquet, text otherwise). */
export async function decodeObject(format: S3Format | undefined, body: string | Uint8Array): Promise<unknown[]> {
  const f = formatOf(format);
  if (f.kind === 'parquet') {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    return parquetReadObjects({ file });
  }
  const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
  if (f.kind === 'ndjson') return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as unknown);
  const rows = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  return rows.map((row) => Object.fromEntries(f.columns.map(([name, type]) => [name, fromCsv(row[name] ?? '', type)])));
}

function fromCsv(text: string, type: ColumnType): unknown {
  if (type === 'string') return text;
  if (text === '') return null;
  if (type === 'int' || type === 'double') return Number(text);
  if (type === 'boolean') return text === 'true';
  return JSON.parse(text) as unknown;
}
