/**
 * Reproducible randomness for the chaos specs: a seeded generator (mulberry32), so that a failing
 * run can be replayed with `CHAOS_SEED=<seed printed by the run>`.
 */
import { randomInt } from 'node:crypto';

/** Environment variable that fixes the seed of a chaos run. */
export const CHAOS_SEED_ENV = 'CHAOS_SEED';

/** A seeded source of random choices. */
export interface ChaosRandom {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  /** `true` with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

/** The seed of this run: `CHAOS_SEED` when set, else a fresh one. */
export function chaosSeed(): number {
  const fixed = process.env[CHAOS_SEED_ENV];
  if (fixed === undefined || fixed === '') return randomInt(2 ** 31);
  const seed = Number(fixed);
  if (!Number.isSafeInteger(seed)) throw new TypeError(`${CHAOS_SEED_ENV} must be an integer, got ${fixed}`);
  return seed;
}

/** A generator seeded with `seed` (mulberry32: tiny, fast, good enough to schedule chaos). */
export function createChaosRandom(seed: number = chaosSeed()): ChaosRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    pick: (items) => {
      if (items.length === 0) throw new RangeError('pick() from an empty list');
      return items[Math.floor(next() * items.length)]!;
    },
  };
}

/** A count from the environment (`name`), else `fallback`: the bench runs the specs longer. */
export function chaosCount(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, got ${raw}`);
  return value;
}
