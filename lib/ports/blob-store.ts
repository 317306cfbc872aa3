/**
 * Blob store port: S3 semantics for immutable objects.
 *
 * Guarantees: `put` with `ifAbsent` is atomic (S3 `If-None-Match: *`): of concurrent
 * writers exactly one creates the object, the rest learn it exists. Reads after a
 * successful put see the object (S3 is strongly consistent). `list` returns keys in
 * lexicographic order.
 */
export interface BlobStore {
  /** The S3 bucket, for an adapter that has one (the job item records it: see core/manifest's `bucket`). */
  readonly bucket?: string;
  /** Returns false when `ifAbsent` is set and the object already existed (nothing written).
   *  A body is text (UTF-8) or bytes (a Parquet file). */
  put(key: string, body: string | Uint8Array, options?: { ifAbsent?: boolean }): Promise<boolean>;
  /** The object as UTF-8 text. */
  get(key: string): Promise<string | null>;
  /** The object as bytes. */
  getBytes(key: string): Promise<Uint8Array | null>;
  list(prefix: string): Promise<string[]>;
  delete(keys: readonly string[]): Promise<void>;
}
