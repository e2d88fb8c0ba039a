// What the server benches read about a process from Linux's /proc (Node has no API for another
// process's CPU time), and the table they print. Shared by bench/load and bench/publish.
import { readdirSync, readFileSync } from 'node:fs';

/** Milliseconds per clock tick of `/proc/<pid>/stat` (USER_HZ is 100 on every Linux Node runs on). */
const MS_PER_TICK = 10;

/** User + system CPU time of a process in ms (`/proc/<pid>/stat`), `NaN` when it cannot be read. */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at index 2 of the rest.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * MS_PER_TICK;
  } catch {
    return Number.NaN;
  }
}

/** Resident memory of a process in KiB, `NaN` when it cannot be read. */
export function rssKiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** This process's soft limit of open files (`Infinity` where /proc cannot tell). */
export function openFilesLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    return Number(line?.split(/\s+/)[3] ?? Number.POSITIVE_INFINITY);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * The pid of the process whose command line contains every one of `parts` (redis-server rewrites
 * its title to `redis-server 127.0.0.1:<port>`), or `undefined`.
 */
export function findPid(parts: readonly string[]): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (parts.every((part) => command.includes(part))) return Number(entry);
    } catch {
      // the process exited meanwhile
    }
  }
  return undefined;
}

/** Prints a Markdown table whose columns are padded to their widest cell. */
export function printTable(header: readonly string[], lines: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  console.log('');
  console.log(format(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const line of lines) console.log(format(line));
  console.log('');
}

/** A ratio as the tables print it (`0.83×`), `–` when it is not a finite number. */
export function formatRatio(value: number, base: number | undefined): string {
  const ratio = base === undefined ? Number.NaN : value / base;
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : '–';
}

/** A count with thousands separators. */
export function formatCount(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '–';
}
