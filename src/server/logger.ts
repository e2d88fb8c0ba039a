/**
 * Where the server writes its one-line logs. Tokens are never logged, only `sub` and session ids.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const logger: Logger = { info: () => {}, warn: console.warn, error: console.error };
 * ```
 */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

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

/**
 * An error as a log line fragment: `Name: message` for an `Error`, the value as text otherwise.
 *
 * @param error - anything thrown
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
