/**
 * One record's text as a source reads it (the log and Kinesis sources): its value and event
 * time, or why it goes to the job's dead-letter output. The timestamp function's own throws
 * pass through: the source task names them as the source's user error.
 */
export type Decoded<T> = { readonly value: T; readonly ts: number | undefined } | { readonly reason: string };

export function decodeRecord<T>(text: string, json: boolean, timestamp: ((value: T) => number) | undefined): Decoded<T> {
  let value: T;
  try {
    value = (json ? JSON.parse(text) : text) as T;
  } catch (e) {
    return { reason: `not JSON: ${(e as Error).message}` };
  }
  if (!timestamp) return { value, ts: undefined };
  const ts = timestamp(value);
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return { reason: 'no timestamp' };
  return { value, ts };
}
