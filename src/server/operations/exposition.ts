/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: a handful of counters
 * and gauges need no client library. The output is byte-identical to prom-client's for the same
 * metrics (see `test/unit/server/operations.test.ts`).
 *
 * @module
 */

/** `Content-Type` of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** One metric: its name, help text, type and samples (label sets with a value). */
export interface MetricFamily {
  /** `[a-zA-Z_:][a-zA-Z0-9_:]*`. */
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: readonly MetricSample[];
}

/** One sample of a {@link MetricFamily}. */
export interface MetricSample {
  /** Label names (`[a-zA-Z_][a-zA-Z0-9_]*`) to values. */
  labels?: Readonly<Record<string, string>>;
  value: number;
}

/**
 * Renders metric families: `# HELP` and `# TYPE` lines, then one line per sample; families are
 * separated by an empty line, as prom-client does.
 *
 * @param families - what to expose
 * @throws TypeError for a metric or label name that is not valid
 */
export function renderMetrics(families: readonly MetricFamily[]): string {
  return `${families.map(renderFamily).join('\n\n')}\n`;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function renderFamily({ name, help, type, samples }: MetricFamily): string {
  if (!METRIC_NAME.test(name)) throw new TypeError(`invalid metric name ${JSON.stringify(name)}`);
  const lines = [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
  for (const { labels = {}, value } of samples) lines.push(`${name}${renderLabels(labels)} ${renderValue(value)}`);
  return lines.join('\n');
}

function renderLabels(labels: Readonly<Record<string, string>>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  const rendered = entries.map(([key, value]) => {
    if (!LABEL_NAME.test(key)) throw new TypeError(`invalid label name ${JSON.stringify(key)}`);
    return `${key}="${escapeLabelValue(value)}"`;
  });
  return `{${rendered.join(',')}}`;
}

/** Help text: backslash and line feed escaped. */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Label values: backslash, double quote and line feed escaped. */
function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function renderValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}
