import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../lib/core/errors.js';
import { encodeKey, keyGroupOf, keyGroupRange, murmur3, subtaskForKeyGroup } from '../../lib/core/keygroups.js';

describe('key groups (Flink semantics)', () => {
  it('murmur3 matches reference MurmurHash3_x86_32 of the UTF-16LE bytes', () => {
    // Reference: MurmurHash3_x86_32 over the UTF-16 code units, little-endian.
    expect(murmur3('')).toBe(0);
    expect(murmur3('', 1)).toBe(0x514e28b7);
    expect(murmur3('ab')).toBe(0x165860ca);
    expect(murmur3('abc')).toBe(0x42b016c3);
    expect(murmur3('héllo wörld', 42)).toBe(0x70ffdb88);
  });

  it('ranges of all subtasks partition the key groups exactly, for every parallelism', () => {
    for (const max of [1, 7, 128]) {
      for (let p = 1; p <= max && p <= 20; p++) {
        const owners = new Array(max).fill(-1);
        for (let i = 0; i < p; i++) {
          const r = keyGroupRange(max, p, i);
          for (let g = r.start; g <= r.end; g++) {
            expect(owners[g]).toBe(-1);
            owners[g] = i;
          }
        }
        owners.forEach((owner, g) => expect(subtaskForKeyGroup(g as never, max, p)).toBe(owner));
      }
    }
  });

  it('keys of different types do not collide by accident and bad keys are refused', () => {
    expect(encodeKey(1)).not.toBe(encodeKey('1'));
    expect(() => encodeKey({})).toThrow(InvalidInputError);
    expect(() => encodeKey(Number.NaN)).toThrow(InvalidInputError);
    const g = keyGroupOf(encodeKey('user-42'), 128);
    expect(g).toBeGreaterThanOrEqual(0);
    expect(g).toBeLessThan(128);
  });
});
