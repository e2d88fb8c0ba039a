// The one results table of `npm run bench`: each figure with the baseline measured in the same
// run, their ratio, the target of spec §10 and whether this run met it.
import type { PageKind } from './env.ts';

/** A target on a row: the ratio must stay at or below `max`, or the value at or above `min`. */
export type Target = { max: number } | { min: number } | { equals: string } | undefined;

/** One line of the table. */
export interface Row {
  metric: string;
  page: PageKind | '–';
  shared: string;
  baseline: string;
  ratio: string;
  target: string;
  met: string;
}

const rows: Row[] = [];

const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '–');

function describe(target: Target): string {
  if (!target) return '';
  if ('max' in target) return `≤ ${target.max}×`;
  if ('min' in target) return `≥ ${target.min}`;
  return target.equals;
}

/**
 * Adds a row. With two numbers the ratio is `shared / baseline`; a `max` target checks the ratio,
 * a `min` target the shared value, an `equals` target the shared text.
 */
export function row(
  metric: string,
  page: PageKind | '–',
  shared: number | string,
  baseline: number | string,
  target?: Target,
): void {
  const ratio = typeof shared === 'number' && typeof baseline === 'number' ? shared / baseline : Number.NaN;
  let met = '';
  if (target && 'max' in target) met = Number.isFinite(ratio) ? (ratio <= target.max ? 'yes' : 'no') : '–';
  if (target && 'min' in target) met = typeof shared === 'number' && shared >= target.min ? 'yes' : 'no';
  const sharedText = typeof shared === 'number' ? fmt(shared) : shared;
  if (target && 'equals' in target) {
    met = (typeof shared === 'number' ? shared === Number(target.equals) : shared === target.equals) ? 'yes' : 'no';
  }
  const added: Row = {
    metric,
    page,
    shared: sharedText,
    baseline: typeof baseline === 'number' ? fmt(baseline) : baseline,
    ratio: Number.isFinite(ratio) ? `${fmt(ratio)}×` : '–',
    target: describe(target),
    met,
  };
  rows.push(added);
  console.log(`  ${metric} [${page}]: ${added.shared} vs ${added.baseline} (${added.ratio}) ${added.met}`);
}

/** The table as Markdown, columns padded (as Prettier formats it in the README). */
export function markdownTable(): string {
  const header: Row = {
    metric: 'metric',
    page: 'page' as Row['page'],
    shared: 'shared-session',
    baseline: 'baseline',
    ratio: 'ratio',
    target: 'target',
    met: 'met',
  };
  const keys = Object.keys(header) as (keyof Row)[];
  const all = [header, ...rows];
  const width = (key: keyof Row) => Math.max(3, ...all.map((r) => [...r[key]].length));
  const line = (r: Row) => `| ${keys.map((k) => r[k] + ' '.repeat(width(k) - [...r[k]].length)).join(' | ')} |`;
  const rule = `| ${keys.map((k) => '-'.repeat(width(k))).join(' | ')} |`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Rows whose target this run missed. */
export function missed(): Row[] {
  return rows.filter((r) => r.met === 'no');
}
