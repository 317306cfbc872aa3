/**
 * BlobStore port on one S3 bucket. Bodies are UTF-8 strings; keys come from core/wire/storage-keys.
 *
 * What must hold: `put` with `ifAbsent` is atomic, so it is a single PutObject with
 * `If-None-Match: *` — never a HEAD followed by a PUT. S3 answers 412 PreconditionFailed when
 * the key exists (→ false) and 409 ConditionalRequestConflict while a concurrent conditional
 * write on the key is in flight (→ look again: if the other writer created it, false; if not,
 * try again).
 *
 * One ambiguity stays: when a conditional PUT succeeds but its response is lost, the SDK's
 * retry gets 412 and we report "existed" for an object we wrote. Callers write deterministic
 * bodies under immutable keys (snapshots, commit markers), so both answers lead to the same
 * state.
 *
 * `If-None-Match: *` must be atomic (AWS's is, and so is the embedded emulator's): two
 * racing writers may not both succeed.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { TransientStorageError } from '../../core/errors.js';
import type { BlobStore } from '../../ports/blob-store.js';
import { attempt, AwsRequestError, isConditionalConflict, isNoSuchKey, isPreconditionFailed, translateError } from './errors.js';

const DELETE_CHUNK = 1000;
const CONFLICT_ATTEMPTS = 5;

export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {}

  async put(key: string, body: string | Uint8Array, options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    const input = { Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/octet-stream' };
    if (!options.ifAbsent) {
      await attempt('s3', `PutObject ${key}`, () => this.client.send(new PutObjectCommand(input)));
      return true;
    }
    for (let n = 1; n <= CONFLICT_ATTEMPTS; n++) {
      try {
        await this.client.send(new PutObjectCommand({ ...input, IfNoneMatch: '*' }));
        return true;
      } catch (e) {
        if (isPreconditionFailed(e)) return false;
        if (!isConditionalConflict(e)) throw translateError('s3', `PutObject ${key} (if absent)`, e);
        if (await this.exists(key)) return false;
        await new Promise((resolve) => setTimeout(resolve, 20 * n * (1 + Math.random())));
      }
    }
    throw new TransientStorageError(`s3 PutObject ${key} (if absent): ${CONFLICT_ATTEMPTS} conflicting concurrent writes`);
  }

  async get(key: string): Promise<string | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await out.Body?.transformToString('utf-8')) ?? '';
    } catch (e) {
      if (isNoSuchKey(e)) return null;
      throw translateError('s3', `GetObject ${key}`, e);
    }
  }

  async getBytes(key: string): Promise<Uint8Array | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
    } catch (e) {
      if (isNoSuchKey(e)) return null;
      throw translateError('s3', `GetObject ${key}`, e);
    }
  }

  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const out = await attempt('s3', `ListObjectsV2 ${prefix}`, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const o of out.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys; // S3 lists in UTF-8 byte order, which is the order of our ASCII keys
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_CHUNK) {
      const chunk = keys.slice(i, i + DELETE_CHUNK);
      const out = await attempt('s3', `DeleteObjects (${chunk.length} keys)`, () =>
        this.client.send(
          new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }),
        ),
      );
      const first = out.Errors?.[0];
      if (first) {
        // Per-key failures come back in a 200 response; InternalError/SlowDown are worth a retry.
        const detail = new Error(`${out.Errors!.length} of ${chunk.length} deletes failed, first ${first.Key}: ${first.Code}: ${first.Message ?? ''}`);
        if (first.Code === 'InternalError' || first.Code === 'SlowDown') throw new TransientStorageError('s3 DeleteObjects', { cause: detail });
        throw new AwsRequestError('s3', 'DeleteObjects', first.Code ?? 'Unknown', 200, { cause: detail });
      }
    }
  }

  private async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (e) {
      if (isNoSuchKey(e) || (e as { name?: string }).name === 'NotFound') return false;
      throw translateError('s3', `HeadObject ${key}`, e);
    }
  }
}
