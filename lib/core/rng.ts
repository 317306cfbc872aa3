/**
 * Seeded pseudo-random numbers (mulberry32). Everything random in Tidemark that must be
 * reproducible — generated records, simulated schedules — draws from here.
 */
import { murmur3 } from './keygroups.js';

export type Random = () => number;

export function mulberry32(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An independent stream per (seed, index): record i is the same however the input is split. */
export const randomFor = (seed: number, index: number): Random => mulberry32(murmur3(`${index}`, seed));

export const randomInt = (random: Random, lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
