/** In-memory BlobStore with S3's conditional-put semantics. */
import type { BlobStore } from '../../ports/blob-store.js';

export class MemoryBlobStore implements BlobStore {
  private readonly objects = new Map<string, string | Uint8Array>();
  /** Requests served, by operation (benchmarks report them). */
  readonly requests = { put: 0, get: 0, list: 0, delete: 0 };

  async put(key: string, body: string | Uint8Array, options: { ifAbsent?: boolean } = {}): Promise<boolean> {
    this.requests.put++;
    if (options.ifAbsent && this.objects.has(key)) return false;
    this.objects.set(key, body);
    return true;
  }

  async get(key: string): Promise<string | null> {
    this.requests.get++;
    const body = this.objects.get(key);
    return body === undefined ? null : typeof body === 'string' ? body : new TextDecoder().decode(body);
  }

  async getBytes(key: string): Promise<Uint8Array | null> {
    this.requests.get++;
    const body = this.objects.get(key);
    return body === undefined ? null : typeof body === 'string' ? new TextEncoder().encode(body) : body;
  }

  async list(prefix: string): Promise<string[]> {
    this.requests.list++;
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async delete(keys: readonly string[]): Promise<void> {
    this.requests.delete++;
    for (const k of keys) this.objects.delete(k);
  }

  /** Total bytes stored under a prefix (tests and benchmarks). */
  bytesUnder(prefix: string): number {
    let n = 0;
    for (const [k, v] of this.objects) if (k.startsWith(prefix)) n += typeof v === 'string' ? v.length : v.byteLength;
    return n;
  }
}
