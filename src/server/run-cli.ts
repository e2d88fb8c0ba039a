import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { environmentHelp, FLAGS, PUBLIC_KEY_ENV_VAR, readFlags, UsageError, type FlagValues } from './cli/flags.js';
import { NO_PERMISSIONS_WARNING, readPermissionsFile } from './cli/permissions-file.js';
import { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT } from './constants.js';
import { createSessionServer } from './create-session-server.js';
import { isOptionalPeerInstalled, LMDB_PEER } from './optional-peer.js';
import { createConsoleLogger, LOG_LEVELS, type Logger, type LogLevel } from './logger.js';
import { HEALTH_PATH, METRICS_PATH } from './operations/endpoints.js';
import type { TopicStoreOption } from './open-store.js';
import { DEFAULT_REDIS_KEY_PREFIX, redactUrl } from './redis/keys.js';
import type { AuthOptions } from './session/token-verifier.js';
import type { SessionServer, SessionServerOptions } from './types.js';

/**
 * Environment variable the CLI reads the HMAC secret from when `--secret` is not given (safer than
 * the flag, which other users of the machine can see in the process list). Every flag has its
 * variable: see {@link CLI_USAGE}. Import from `shared-session/server`.
 *
 * @example
 * ```sh
 * SHARED_SESSION_SECRET=dev-secret npx shared-session-server --port 8787
 * ```
 */
export const SECRET_ENV_VAR = FLAGS.secret.env;

/**
 * Exit code of {@link runCli} for invalid arguments or options. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * if ((await runCli(['--port', 'x'])) === EXIT_USAGE) console.error('fix the arguments');
 * ```
 */
export const EXIT_USAGE = 2;

/**
 * Usage text printed by `--help` and after an argument error. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * console.log(CLI_USAGE);
 * ```
 */
export const CLI_USAGE = `usage: shared-session-server [--port ${DEFAULT_PORT}] [--host ${DEFAULT_HOST}] [--path /session]
         (--secret S | --public-key-file FILE | --jwks-url URL)
         [--issuer I] [--audience A] [--roles-claim roles] [--clock-tolerance SECONDS]
         [--permissions FILE] [--allowed-origin ORIGIN ...] [--schema-version N ...]
         [--data DIR | --memory | --redis URL [--redis-prefix P]] [--log-level info]

  --port N              port to listen on (0 = a free port; default ${DEFAULT_PORT})
  --host H              interface to bind (default ${DEFAULT_HOST}; 0.0.0.0 for every interface)
  --path P              accept WebSockets on this path only (default: any path)
  --allowed-origin O    allow upgrades from this origin only (repeatable); others get 403
  --secret S            HS256/384/512 secret (prefer ${FLAGS.secret.env}: flags show in ps)
  --public-key-file F   PEM (SPKI) public key for RS/PS/ES/EdDSA tokens
  --jwks-url U          JSON Web Key Set URL (an outage closes with 1013: clients retry)
  --issuer I            required "iss" (repeatable: any of them)
  --audience A          required "aud" (repeatable: any of them)
  --roles-claim C       claim holding the roles: a name, dot path or URL claim (default roles)
  --clock-tolerance S   seconds of clock skew tolerated for exp and nbf (default 0)
  --permissions F       JSON file of the permissions option (topic patterns → read/write roles);
                        without it every signed-in user may read and write every non-private topic
  --schema-version N    served schema version (repeatable)
  --data DIR            keep topics in the durable LMDB store in DIR (default ${DEFAULT_DATA_DIR};
                        without the optional peer lmdb installed, memory with a warning)
  --memory              keep topics in memory only (lost when the server stops)
  --redis URL           share topics, fan-out and sessions with other server processes through
                        Redis (redis://host:port); run several behind a load balancer
  --redis-prefix P      prefix of the Redis keys and channels (default ${DEFAULT_REDIS_KEY_PREFIX})
  --log-level L         ${LOG_LEVELS.join(', ')} (default info; per-session lines are debug)
  --help                print this help

  GET ${HEALTH_PATH} answers readiness and counts, GET ${METRICS_PATH} Prometheus metrics.

environment (a flag wins over its variable; lists are comma-separated):
${environmentHelp()}`;

/**
 * How {@link runCli} talks to the outside world. Every field has a process default; tests pass
 * their own to run the CLI in-process. Import from `shared-session/server`.
 *
 * @example
 * ```ts
 * const stop = new AbortController();
 * const exited = runCli(['--port', '0', '--secret', 's'], { signal: stop.signal, onListening: (s) => console.log(s.url) });
 * stop.abort();
 * await exited; // 0
 * ```
 */
export interface CliContext {
  /** Environment (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Writes one line of normal output (default `console.log`). */
  out?: (line: string) => void;
  /** Writes one line of error output (default `console.error`). */
  err?: (line: string) => void;
  /** The server's logger (default console logs at `--log-level`). */
  logger?: Logger | false;
  /** Signals that shut the server down gracefully (default SIGINT and SIGTERM). */
  signals?: readonly NodeJS.Signals[];
  /** Aborting it shuts the server down, like a signal. */
  signal?: AbortSignal;
  /** Called once the server listens. */
  onListening?: (server: SessionServer) => void;
}

function integer(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${flag} must be an integer ${min}–${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function oneOrMany(values: string[] | undefined): string | string[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  return values.length === 1 ? values[0] : values;
}

async function authFrom(values: FlagValues, env: CliContext['env']): Promise<AuthOptions> {
  const keys = [values.secret, values['public-key-file'], values['jwks-url']].filter((v) => v !== undefined);
  if (keys.length > 1) throw new UsageError('give only one of --secret, --public-key-file or --jwks-url');
  const claims: AuthOptions = {};
  const issuer = oneOrMany(values.issuer);
  const audience = oneOrMany(values.audience);
  if (issuer !== undefined) claims.issuer = issuer;
  if (audience !== undefined) claims.audience = audience;
  if (values['roles-claim'] !== undefined) claims.rolesClaim = values['roles-claim'];
  const tolerance = values['clock-tolerance'];
  if (tolerance !== undefined) {
    const seconds = Number(tolerance);
    if (!/^\d+(\.\d+)?$/.test(tolerance) || !Number.isFinite(seconds)) {
      throw new UsageError(
        `--clock-tolerance must be a non-negative number of seconds, got ${JSON.stringify(tolerance)}`,
      );
    }
    claims.clockTolerance = seconds;
  }
  const keyFile = values['public-key-file'];
  if (keyFile !== undefined) {
    try {
      return { ...claims, publicKey: await readFile(keyFile, 'utf8') };
    } catch (cause) {
      throw new UsageError(`cannot read --public-key-file ${JSON.stringify(keyFile)}`, { cause });
    }
  }
  if (values['jwks-url'] !== undefined) return { ...claims, jwksUrl: values['jwks-url'] };
  if (values.secret !== undefined) return { ...claims, secret: values.secret };
  const pem = env?.[PUBLIC_KEY_ENV_VAR];
  if (pem !== undefined && pem.length > 0) return { ...claims, publicKey: pem };
  throw new UsageError(
    `one of --secret, --public-key-file or --jwks-url is required (or set ${FLAGS.secret.env}, ` +
      `${FLAGS['public-key-file'].env}, ${PUBLIC_KEY_ENV_VAR} or ${FLAGS['jwks-url'].env})`,
  );
}

/**
 * The store the flags choose. Without a store flag it is LMDB in `./data` when `lmdb` is
 * installed, else memory with a warning (a first run works without the optional peer; it says so).
 */
function storeFrom(
  values: FlagValues,
  lmdbInstalled: boolean,
): { store: TopicStoreOption; line: string; warning?: string } {
  const storeFlags = [values.data !== undefined, values.memory === true, values.redis !== undefined];
  if (storeFlags.filter(Boolean).length > 1) throw new UsageError('give only one of --data, --memory or --redis');
  if (values.data === '') throw new UsageError('--data must name a directory');
  const redis = values.redis;
  if (redis !== undefined && !/^rediss?:\/\/./.test(redis)) {
    throw new UsageError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(redis)}`);
  }
  const prefix = values['redis-prefix'];
  if (prefix !== undefined && redis === undefined) throw new UsageError('--redis-prefix needs --redis');
  if (redis !== undefined) {
    return {
      store: prefix === undefined ? { redis } : { redis, keyPrefix: prefix },
      line: `topics, fan-out and sessions shared through Redis at ${redactUrl(redis)}`,
    };
  }
  if (values.memory)
    return { store: 'memory', line: 'topics kept in memory (lost when the server stops; --data DIR keeps them)' };
  const dataDir = resolve(values.data ?? DEFAULT_DATA_DIR);
  if (values.data === undefined && !lmdbInstalled) {
    return {
      store: 'memory',
      line: 'topics kept in memory (lost when the server stops)',
      warning:
        `lmdb is not installed, so topics are kept in memory and lost when the server stops: ` +
        `\`npm install lmdb\` keeps them in ${dataDir} (--memory chooses memory without this warning)`,
    };
  }
  return { store: { path: dataDir }, line: `topics kept in the LMDB store at ${dataDir}` };
}

function logLevelFrom(values: FlagValues): LogLevel {
  const level = values['log-level'] ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}`);
  }
  return level as LogLevel;
}

/** The server's options from the flags and the environment, and what the CLI says at start. */
async function optionsFrom(
  values: FlagValues,
  env: CliContext['env'],
  logger: CliContext['logger'],
): Promise<{ options: SessionServerOptions; notes: string[]; warnings: string[] }> {
  const versions = (values['schema-version'] ?? []).map((v) =>
    integer(v, 'schema-version', 0, Number.MAX_SAFE_INTEGER),
  );
  const choosesStore = values.data !== undefined || values.memory === true || values.redis !== undefined;
  const lmdbInstalled = choosesStore || (await isOptionalPeerInstalled(LMDB_PEER, () => import('lmdb')));
  const { store, line, warning } = storeFrom(values, lmdbInstalled);
  const level = logLevelFrom(values);
  const options: SessionServerOptions = {
    port: values.port === undefined ? DEFAULT_PORT : integer(values.port, 'port', 0, 65535),
    host: values.host ?? DEFAULT_HOST,
    auth: await authFrom(values, env),
    logger: logger ?? createConsoleLogger({ level }),
    store,
  };
  if (versions.length > 0) options.schema = { versions };
  if (values.path !== undefined) options.path = values.path;
  const origins = values['allowed-origin'];
  if (origins !== undefined && origins.length > 0) options.allowedOrigins = origins;
  const warnings: string[] = warning === undefined ? [] : [warning];
  if (values.permissions !== undefined) options.permissions = await readPermissionsFile(values.permissions);
  else warnings.push(NO_PERMISSIONS_WARNING);
  return { options, notes: [line], warnings };
}

/**
 * Runs the `shared-session-server` command: parses `argv`, starts the server, prints its URL, and
 * shuts down gracefully on SIGINT/SIGTERM (or when `context.signal` aborts). Never calls
 * `process.exit`; resolves with the exit code instead.
 *
 * Import from `shared-session/server`.
 *
 * @param argv - the arguments after the executable and script (`process.argv.slice(2)`)
 * @param context - I/O and lifecycle hooks (defaults: the process's)
 * @returns 0 after a graceful shutdown or `--help`, {@link EXIT_USAGE} for bad arguments, 1 when the server could not start
 * @example
 * ```ts
 * process.exitCode = await runCli(['--port', '8787', '--secret', 'dev-secret']);
 * ```
 */
export async function runCli(argv: readonly string[], context: CliContext = {}): Promise<number> {
  const env = context.env ?? process.env;
  const out = context.out ?? ((line: string) => console.log(line));
  const err = context.err ?? ((line: string) => console.error(line));

  let started: Awaited<ReturnType<typeof optionsFrom>>;
  try {
    const values = readFlags(argv, env);
    if (values.help) {
      out(CLI_USAGE);
      return 0;
    }
    started = await optionsFrom(values, env, context.logger);
  } catch (error) {
    // parseArgs throws TypeErrors with a code (unknown option, missing value); ours are UsageErrors.
    err(`shared-session-server: ${error instanceof Error ? error.message : String(error)}`);
    err(CLI_USAGE);
    return EXIT_USAGE;
  }
  const { options, notes, warnings } = started;

  let server: SessionServer;
  try {
    server = await createSessionServer(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    err(`shared-session-server: ${message}`);
    return error instanceof TypeError ? EXIT_USAGE : 1;
  }

  const httpBase = `${server.url.replace(/^ws/, 'http').replace(/(\/\/[^/]+).*$/, '$1')}`;
  out(
    `shared-session-server listening on ${server.url} (health: ${httpBase}${HEALTH_PATH}, metrics: ${httpBase}${METRICS_PATH})`,
  );
  for (const note of notes) out(note);
  for (const warning of warnings) err(`shared-session-server: ${warning}`);
  context.onListening?.(server);

  await new Promise<void>((resolve) => {
    const signals = context.signals ?? ['SIGINT', 'SIGTERM'];
    const stop = (): void => {
      for (const name of signals) process.off(name, stop);
      context.signal?.removeEventListener('abort', stop);
      out('shared-session-server shutting down');
      void server.close().then(resolve, (error: unknown) => {
        err(`shared-session-server: shutdown failed: ${String(error)}`);
        resolve();
      });
    };
    for (const name of signals) process.once(name, stop);
    if (context.signal?.aborted) stop();
    else context.signal?.addEventListener('abort', stop, { once: true });
  });
  return 0;
}
