/** The figures a chaos spec prints: percentiles of durations, and one line per figure. */

/** p50, p99 and max of `values` (nearest rank). */
export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `values` (NaN for an empty list). */
export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
  return { count: sorted.length, p50: rank(50), p99: rank(99), max: sorted.at(-1) ?? NaN };
}

/** `p50 12 ms, p99 40 ms, max 41 ms (n = 50)` */
export function describeMs(values: readonly number[]): string {
  const { count, p50, p99, max } = percentiles(values);
  const ms = (value: number) => `${Math.round(value)} ms`;
  return `p50 ${ms(p50)}, p99 ${ms(p99)}, max ${ms(max)} (n = ${count})`;
}

/** Prints the figures of a chaos scenario as one block: `chaos <name>:` then one indented line each. */
export function printFigures(name: string, figures: Record<string, string | number>): void {
  const lines = Object.entries(figures).map(([key, value]) => `  ${key}: ${value}`);
  console.log(`chaos ${name}:\n${lines.join('\n')}`);
}
