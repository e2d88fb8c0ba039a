import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_DATA_DIR, DEFAULT_HOST, DEFAULT_PORT } from './constants.js';
import { createSessionServer } from './create-session-server.js';
import { createConsoleLogger, type Logger } from './logger.js';
import type { TopicStoreOption } from './open-store.js';
import { DEFAULT_REDIS_KEY_PREFIX, redactUrl } from './redis/keys.js';
import type { AuthOptions } from './session/token-verifier.js';
import { HEALTH_PATH } from './transport/http.js';
import type { SessionServer, SessionServerOptions } from './types.js';

/**
 * Environment variable the CLI reads the HMAC secret from when no key flag is given.
 * Import from `shared-session/server`.
 *
 * @example
 * ```sh
 * SHARED_SESSION_SECRET=dev-secret npx shared-session-server --port 8787
 * ```
 */
export const SECRET_ENV_VAR = 'SHARED_SESSION_SECRET';

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
export const CLI_USAGE = `usage: shared-session-server [--port ${DEFAULT_PORT}] [--host ${DEFAULT_HOST}]
         (--secret S | --public-key-file FILE | --jwks-url URL)
         [--issuer I] [--audience A] [--roles-claim roles] [--schema-version N ...]
         [--data DIR | --memory | --redis URL [--redis-prefix P]]

  --port N              port to listen on (0 = a free port; default ${DEFAULT_PORT})
  --host H              interface to bind (default ${DEFAULT_HOST})
  --secret S            HS256/384/512 secret (or set ${SECRET_ENV_VAR})
  --public-key-file F   PEM (SPKI) public key for RS/PS/ES/EdDSA tokens
  --jwks-url U          JSON Web Key Set URL
  --issuer I            required "iss" (repeatable: any of them)
  --audience A          required "aud" (repeatable: any of them)
  --roles-claim C       claim holding the roles (default roles)
  --schema-version N    served schema version (repeatable)
  --data DIR            keep topics in the durable LMDB store in DIR (default ${DEFAULT_DATA_DIR})
  --memory              keep topics in memory only (lost when the server stops)
  --redis URL           share topics, fan-out and sessions with other server processes through
                        Redis (redis://host:port); run several behind a load balancer
  --redis-prefix P      prefix of the Redis keys and channels (default ${DEFAULT_REDIS_KEY_PREFIX})
  --help                print this help`;

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
  /** The server's logger (default one-line console logs). */
  logger?: Logger | false;
  /** Signals that shut the server down gracefully (default SIGINT and SIGTERM). */
  signals?: readonly NodeJS.Signals[];
  /** Aborting it shuts the server down, like a signal. */
  signal?: AbortSignal;
  /** Called once the server listens. */
  onListening?: (server: SessionServer) => void;
}

class UsageError extends Error {}

const ARG_OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  secret: { type: 'string' },
  'public-key-file': { type: 'string' },
  'jwks-url': { type: 'string' },
  issuer: { type: 'string', multiple: true },
  audience: { type: 'string', multiple: true },
  'roles-claim': { type: 'string' },
  'schema-version': { type: 'string', multiple: true },
  data: { type: 'string' },
  memory: { type: 'boolean' },
  redis: { type: 'string' },
  'redis-prefix': { type: 'string' },
  help: { type: 'boolean' },
} as const;

type ParsedValues = ReturnType<typeof parseArgs<{ options: typeof ARG_OPTIONS; strict: true }>>['values'];

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

async function authFrom(values: ParsedValues, env: CliContext['env']): Promise<AuthOptions> {
  const keys = [values.secret, values['public-key-file'], values['jwks-url']].filter((v) => v !== undefined);
  if (keys.length > 1) throw new UsageError('give only one of --secret, --public-key-file or --jwks-url');
  const issuer = oneOrMany(values.issuer);
  const audience = oneOrMany(values.audience);
  const claims: AuthOptions = {
    ...(issuer !== undefined && { issuer }),
    ...(audience !== undefined && { audience }),
    ...(values['roles-claim'] !== undefined && { rolesClaim: values['roles-claim'] }),
  };
  if (values['public-key-file'] !== undefined) {
    let pem: string;
    try {
      pem = await readFile(values['public-key-file'], 'utf8');
    } catch (cause) {
      throw new UsageError(`cannot read --public-key-file ${JSON.stringify(values['public-key-file'])}`, { cause });
    }
    return { ...claims, publicKey: pem };
  }
  if (values['jwks-url'] !== undefined) return { ...claims, jwksUrl: values['jwks-url'] };
  const secret = values.secret ?? env?.[SECRET_ENV_VAR];
  if (secret === undefined || secret.length === 0) {
    throw new UsageError(`one of --secret, --public-key-file or --jwks-url is required (or set ${SECRET_ENV_VAR})`);
  }
  return { ...claims, secret };
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

  let options: SessionServerOptions;
  let storeLine: string;
  try {
    const { values } = parseArgs({ args: [...argv], options: ARG_OPTIONS, strict: true, allowPositionals: false });
    if (values.help) {
      out(CLI_USAGE);
      return 0;
    }
    const versions = (values['schema-version'] ?? []).map((v) =>
      integer(v, 'schema-version', 0, Number.MAX_SAFE_INTEGER),
    );
    const storeFlags = [values.data !== undefined, values.memory === true, values.redis !== undefined];
    if (storeFlags.filter(Boolean).length > 1) throw new UsageError('give only one of --data, --memory or --redis');
    if (values.data === '') throw new UsageError('--data must name a directory');
    if (values.redis !== undefined && !/^rediss?:\/\/./.test(values.redis)) {
      throw new UsageError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(values.redis)}`);
    }
    if (values['redis-prefix'] !== undefined && values.redis === undefined) {
      throw new UsageError('--redis-prefix needs --redis');
    }
    const redis = values.redis;
    const dataDir = values.memory || redis !== undefined ? undefined : resolve(values.data ?? DEFAULT_DATA_DIR);
    let store: TopicStoreOption;
    if (redis !== undefined) {
      store = { redis, ...(values['redis-prefix'] !== undefined && { keyPrefix: values['redis-prefix'] }) };
      storeLine = `topics, fan-out and sessions shared through Redis at ${redactUrl(redis)}`;
    } else if (dataDir !== undefined) {
      store = { path: dataDir };
      storeLine = `topics kept in the LMDB store at ${dataDir}`;
    } else {
      store = 'memory';
      storeLine = 'topics kept in memory (lost when the server stops; --data DIR keeps them)';
    }
    options = {
      port: values.port === undefined ? DEFAULT_PORT : integer(values.port, 'port', 0, 65535),
      host: values.host ?? DEFAULT_HOST,
      auth: await authFrom(values, env),
      ...(versions.length > 0 && { schema: { versions } }),
      logger: context.logger ?? createConsoleLogger(),
      store,
    };
  } catch (error) {
    // parseArgs throws TypeErrors with a code (unknown option, missing value); ours are UsageErrors.
    err(`shared-session-server: ${error instanceof Error ? error.message : String(error)}`);
    err(CLI_USAGE);
    return EXIT_USAGE;
  }

  let server: SessionServer;
  try {
    server = await createSessionServer(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    err(`shared-session-server: ${message}`);
    return error instanceof TypeError ? EXIT_USAGE : 1;
  }

  const healthUrl = `${server.url.replace(/^ws/, 'http')}${HEALTH_PATH}`;
  out(`shared-session-server listening on ${server.url} (health: ${healthUrl})`);
  out(storeLine);
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
