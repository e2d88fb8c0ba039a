// The one results table of `npm run bench`: each figure with the baseline measured in the same
// run, their ratio, the target of spec §10 and whether this run met it. The server benches
// (bench/publish, bench/load) run as child processes and hand their rows over as JSON
// ({@link ServerFigure}); their rows have the page `server`.
import { readFileSync, writeFileSync } from 'node:fs';
import type { PageKind } from './env.ts';

/**
 * A target on a row: the ratio must stay at or below `max` or at or above `minRatio`, or the
 * value at or above `min`.
 */
export type Target = { max: number } | { minRatio: number } | { min: number } | { equals: string } | undefined;

/** Where a row was measured: a page kind of the browser benches, the server benches, or neither. */
export type RowPage = PageKind | 'server' | '–';

/** One line of the table. */
export interface Row {
  metric: string;
  page: RowPage;
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
  if ('minRatio' in target) return `≥ ${target.minRatio}×`;
  if ('min' in target) return `≥ ${target.min}`;
  return target.equals;
}

/**
 * Adds a row. With two numbers the ratio is `shared / baseline` unless `ratio` is given (e.g. the
 * median of per-round ratios); a `max` or `minRatio` target checks the ratio, a `min` target the
 * shared value, an `equals` target the shared text. A figure that could not be measured (text
 * instead of numbers, no ratio) meets no target: `–`.
 */
export function row(
  metric: string,
  page: RowPage,
  shared: number | string,
  baseline: number | string,
  target?: Target,
  ratio: number = typeof shared === 'number' && typeof baseline === 'number' ? shared / baseline : Number.NaN,
): void {
  let met = '';
  if (target && 'max' in target) met = Number.isFinite(ratio) ? (ratio <= target.max ? 'yes' : 'no') : '–';
  if (target && 'minRatio' in target) met = Number.isFinite(ratio) ? (ratio >= target.minRatio ? 'yes' : 'no') : '–';
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

/**
 * One figure of a server bench, as it writes it with `--json FILE`: `shared` and `baseline` are
 * display text (counts with their unit), `ratio` the figure's ratio (null when it could not be
 * measured, e.g. Redis missing: `shared` then says why).
 */
export interface ServerFigure {
  metric: string;
  shared: string;
  baseline: string;
  ratio: number | null;
  target?: { minRatio: number } | { max: number };
}

/** Writes a server bench's figures for `bench/run.ts` (its `--json FILE`). */
export function writeFigures(file: string, figures: readonly ServerFigure[]): void {
  writeFileSync(file, `${JSON.stringify({ figures }, null, 2)}\n`);
}

/**
 * Adds the rows a server bench wrote with {@link writeFigures}.
 *
 * @throws Error when the file is not what {@link writeFigures} writes
 */
export function addFigures(file: string): void {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { figures?: unknown };
  if (!Array.isArray(parsed.figures)) throw new Error(`${file}: no "figures" array`);
  for (const figure of parsed.figures as ServerFigure[]) {
    row(figure.metric, 'server', figure.shared, figure.baseline, figure.target, figure.ratio ?? Number.NaN);
  }
}

/** Rows whose target this run missed. */
export function missed(): Row[] {
  return rows.filter((r) => r.met === 'no');
}
