/**
 * Ingest API of the DynamoDB log source (DESIGN §8): writes records into a job's partitioned
 * log, where the job's log source reads them from replayable offsets.
 *
 * Records are JSON-encoded (what the source decodes). With a key function a record goes to
 * partition `murmur3(encodeKey(key)) % partitions`, the hash key groups use, so one key's
 * records always share a partition and stay in order; without one, records are dealt
 * round-robin. Each partition's records are appended in batches, in their order in
 * `records`; partitions are written concurrently.
 *
 * What must hold:
 * - nothing is written when a record cannot be encoded or keyed (an InvalidInputError naming
 *   the record's index): every record is encoded and routed before the first append;
 * - when ingest returns or throws, no append of it is still running;
 * - ingest is at-least-once: after an error some records may be in the log already (each
 *   partition holds a prefix of its share), so calling again with the same records can
 *   append those twice. Callers that need exactly-once ingestion dedup downstream.
 */
import { InvalidInputError } from '../core/errors.js';
import { encodeKey, murmur3, type Key } from '../core/keygroups.js';
import type { LogStore } from '../ports/log-store.js';

/** Values per append call: bounds a call's size, while a partition's records stay in order. */
export const INGEST_BATCH = 100;

export interface IngestResult {
  /** Records written, in total. */
  readonly appended: number;
  /** Records written to each partition, by partition index. */
  readonly perPartition: number[];
}

/**
 * @param start partition the round-robin deal starts at (keyless records); a stream of small
 *   calls spreads over the partitions when each call starts elsewhere. @default random
 */
export async function ingest<T>(
  logs: LogStore,
  job: string,
  log: string,
  partitions: number,
  records: readonly T[],
  key?: (record: T) => Key,
  start = Math.floor(Math.random() * partitions),
): Promise<IngestResult> {
  if (!Number.isInteger(partitions) || partitions < 1) {
    throw new InvalidInputError(`partitions must be a positive integer, got ${partitions}`);
  }
  const shares: string[][] = Array.from({ length: partitions }, () => []);
  records.forEach((record, i) => {
    const partition = key ? murmur3(keyOf(key, record, i)) % partitions : (start + i) % partitions;
    shares[partition]!.push(encode(record, i));
  });

  const settled = await Promise.allSettled(
    shares.map(async (values, partition) => {
      for (let i = 0; i < values.length; i += INGEST_BATCH) {
        await logs.append(job, log, partition, values.slice(i, i + INGEST_BATCH));
      }
    }),
  );
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  const perPartition = shares.map((values) => values.length);
  return { appended: records.length, perPartition };
}

function encode(record: unknown, index: number): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(record);
  } catch (e) {
    throw new InvalidInputError(`record ${index} cannot be JSON-encoded: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  // undefined, functions and symbols have no JSON form: JSON.stringify gives undefined.
  if (text === undefined) throw new InvalidInputError(`record ${index} cannot be JSON-encoded: it is ${typeof record}`);
  return text;
}

function keyOf<T>(key: (record: T) => Key, record: T, index: number): string {
  try {
    return encodeKey(key(record));
  } catch (e) {
    throw new InvalidInputError(`record ${index}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}
