/**
 * Flink's key groups: a key hashes to one of `maxParallelism` key groups, and each subtask
 * of a keyed stage owns a contiguous range of them. Keyed state is stored and snapshotted
 * by key group, so a restore at another parallelism only regroups whole key groups.
 *
 * Keys are strings or finite numbers; their canonical form (a type letter, then the key:
 * `s` + string, `n` + number) is what is hashed and stored, so `1` and `"1"` are different
 * keys, as they are in JavaScript. It costs one concatenation, not a JSON encoding.
 */
import { InvalidInputError } from './errors.js';
import { keyGroup, type KeyGroup } from './ids.js';

export type Key = string | number;

/** Canonical, storable form of a key; an InvalidInputError for what cannot be a key. */
export function encodeKey(key: unknown): string {
  if (typeof key === 'string') return `s${key}`;
  if (typeof key === 'number' && Number.isFinite(key)) return `n${key}`;
  throw new InvalidInputError(`a key must be a string or a finite number, got ${typeof key === 'number' ? key : typeof key}`);
}

export function decodeKey(encoded: string): Key {
  return encoded.charCodeAt(0) === 115 /* s */ ? encoded.slice(1) : Number(encoded.slice(1));
}

/** MurmurHash3 (x86, 32-bit) over UTF-16 code units. Stable across platforms and versions. */
export function murmur3(text: string, seed = 0): number {
  let h = seed >>> 0;
  const n = text.length;
  let i = 0;
  for (; i + 1 < n; i += 2) {
    let k = (text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16)) >>> 0;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) >>> 0;
  }
  if (i < n) {
    let k = text.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= n * 2;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function keyGroupOf(encodedKey: string, maxParallelism: number): KeyGroup {
  return keyGroup(murmur3(encodedKey) % maxParallelism);
}

/** The subtask that owns a key group (Flink's computeOperatorIndexForKeyGroup). */
export function subtaskForKeyGroup(group: KeyGroup, maxParallelism: number, parallelism: number): number {
  return Math.floor((group * parallelism) / maxParallelism);
}

export interface KeyGroupRange {
  /** inclusive */
  readonly start: number;
  /** inclusive; `end < start` means the range is empty */
  readonly end: number;
}

/** Flink's computeKeyGroupRangeForOperatorIndex: the inverse of subtaskForKeyGroup. */
export function keyGroupRange(maxParallelism: number, parallelism: number, index: number): KeyGroupRange {
  return {
    start: Math.floor((index * maxParallelism + parallelism - 1) / parallelism),
    end: Math.floor(((index + 1) * maxParallelism - 1) / parallelism),
  };
}

export const inRange = (range: KeyGroupRange, group: number) => group >= range.start && group <= range.end;
