/**
 * The server's logs: a leveled logger with fields, in pino's calling convention, so that a pino
 * instance (or anything with the same four methods) can be passed as `logger`. Tokens are never
 * logged, in messages or in fields: only `sub`, session ids and short reasons.
 *
 * @module
 */

/**
 * Structured fields of one log line (`{ sessionId, sub }`). Values are JSON-like; an `err` field
 * holding an `Error` is written as `Name: message` by the console logger.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const fields: LogFields = { sessionId: 's-1', sub: 'alice' };
 * ```
 */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * One level's method, as pino has it: `(message)` or `(fields, message)`.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const info: LogFn = (fieldsOrMessage: LogFields | string, message?: string) => console.log(fieldsOrMessage, message);
 * ```
 */
export interface LogFn {
  (message: string): void;
  (fields: LogFields, message: string): void;
}

/**
 * Where the server writes its logs: pino-compatible, so `logger: pino()` works as is. `debug` is
 * optional (a logger without it drops debug lines). Per-session lines (session created, resumed,
 * ended, refused) are `debug`, so a load of 10,000 sessions writes nothing per session at `info`.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const server = await createSessionServer({ auth: { secret }, logger: pino({ level: 'info' }) });
 * ```
 */
export interface Logger {
  debug?: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/**
 * Log levels, most verbose first; `'silent'` writes nothing.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const level: LogLevel = process.env.DEBUG ? 'debug' : 'info';
 * ```
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/**
 * Every {@link LogLevel}, most verbose first (the CLI validates `--log-level` against it).
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * if (!LOG_LEVELS.includes(value as LogLevel)) throw new TypeError('unknown level');
 * ```
 */
export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

/** Level of {@link createConsoleLogger} when none is given. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'info';

/**
 * Options of {@link createConsoleLogger}.
 *
 * Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const options: ConsoleLoggerOptions = { level: 'debug', prefix: 'chat' };
 * ```
 */
export interface ConsoleLoggerOptions {
  /** Least severe level written. Default {@link DEFAULT_LOG_LEVEL}. */
  level?: LogLevel;
  /** Text after the timestamp. Default `'shared-session'`. */
  prefix?: string;
}

/**
 * A {@link Logger} writing one line per event to the console: time, prefix, level, message, then the
 * fields as `key=value` (strings JSON-quoted). `debug` and `info` go to stdout, `warn` and `error`
 * to stderr. The default of `createSessionServer`, at level `info`.
 *
 * Import from `shared-session/server`.
 *
 * @param options - `{ level, prefix }`, or the prefix alone
 * @throws TypeError for an unknown level
 * @example
 * ```ts
 * const server = await createSessionServer({ auth: { secret }, logger: createConsoleLogger({ level: 'debug' }) });
 * // 2026-01-01T00:00:00.000Z shared-session debug session created sessionId="s-1" sub="alice"
 * ```
 */
export function createConsoleLogger(options: ConsoleLoggerOptions | string = {}): Logger {
  const { level = DEFAULT_LOG_LEVEL, prefix = 'shared-session' } =
    typeof options === 'string' ? { prefix: options } : options;
  const threshold = LOG_LEVELS.indexOf(level);
  if (threshold < 0) throw new TypeError(`"level" must be one of ${LOG_LEVELS.join(', ')}`);
  const method = (name: Exclude<LogLevel, 'silent'>, write: (line: string) => void): LogFn => {
    if (LOG_LEVELS.indexOf(name) < threshold) return () => {};
    return (fieldsOrMessage: LogFields | string, message?: string) => {
      const [fields, text] = typeof fieldsOrMessage === 'string' ? [{}, fieldsOrMessage] : [fieldsOrMessage, message];
      const line = `${new Date().toISOString()} ${prefix} ${name} ${oneLine(text ?? '')}${formatFields(fields)}`;
      write(line);
    };
  };
  return {
    debug: method('debug', (line) => console.log(line)),
    info: method('info', (line) => console.log(line)),
    warn: method('warn', (line) => console.warn(line)),
    error: method('error', (line) => console.error(line)),
  };
}

/** A {@link Logger} that discards everything (what `logger: false` uses). Internal. */
export const silentLogger: Required<Logger> = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * The logger the server uses: the given one with a no-op `debug` when it has none, `false` as
 * silence, nothing as the console logger at `info`.
 *
 * @param given - the `logger` option
 * @throws TypeError when `given` lacks `info`, `warn` or `error`
 */
export function resolveLogger(given: Logger | false | undefined): Required<Logger> {
  if (given === false) return silentLogger;
  const logger = given ?? createConsoleLogger();
  if (typeof logger !== 'object' || logger === null) throw new TypeError('"logger" must be an object or false');
  for (const name of ['info', 'warn', 'error'] as const) {
    if (typeof logger[name] !== 'function') throw new TypeError(`"logger.${name}" must be a function`);
  }
  // Bound, because pino's methods read `this`.
  return {
    debug: typeof logger.debug === 'function' ? logger.debug.bind(logger) : silentLogger.debug,
    info: logger.info.bind(logger),
    warn: logger.warn.bind(logger),
    error: logger.error.bind(logger),
  };
}

/**
 * An error as a log line fragment: `Name: message` for an `Error`, the value as text otherwise.
 *
 * @param error - anything thrown
 */
export function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ');
}

function formatFields(fields: LogFields): string {
  let out = '';
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const shown =
      value instanceof Error
        ? JSON.stringify(describeError(value))
        : typeof value === 'number' || typeof value === 'boolean' || value === null
          ? String(value)
          : JSON.stringify(value);
    out += ` ${key}=${oneLine(shown ?? String(value))}`;
  }
  return out;
}
