import type { Logger } from './types.js';

/**
 * A {@link Logger} writing one line per event to the console, prefixed with the time and
 * `shared-session`. The default of `createSessionServer`.
 *
 * Import from `shared-session/server`.
 *
 * @param prefix - text after the timestamp (default `'shared-session'`)
 * @example
 * ```ts
 * const server = await createSessionServer({ auth: { secret }, logger: createConsoleLogger('chat') });
 * ```
 */
export function createConsoleLogger(prefix = 'shared-session'): Logger {
  const line = (level: string, message: string) =>
    `${new Date().toISOString()} ${prefix} ${level} ${message.replace(/[\r\n]+/g, ' ')}`;
  return {
    info: (message) => console.log(line('info', message)),
    warn: (message) => console.warn(line('warn', message)),
    error: (message) => console.error(line('error', message)),
  };
}

/** A {@link Logger} that discards everything (what `logger: false` uses). Internal. */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} };
