import { parseArgs } from 'node:util';

/**
 * The flags of `shared-session-server` and the environment variable of each: a flag wins over its
 * variable, the variable over the default. `PORT` (what hosting platforms set) is read after
 * `SHARED_SESSION_PORT`. A list flag's variable holds comma-separated values; a boolean flag's
 * variable is `1`/`true` or `0`/`false`.
 *
 * @module
 */

/** One flag: its `parseArgs` type, whether it repeats, and its environment variable. */
interface FlagSpec {
  type: 'string' | 'boolean';
  multiple?: true;
  /** Its environment variable; `undefined` for flags with none (`--help`). */
  env: string | undefined;
}

/**
 * Every flag, with its environment variable. The variable of `--public-key-file` names a file, as
 * the flag does; `SHARED_SESSION_PUBLIC_KEY` holds the PEM itself (see `run-cli.ts`).
 */
export const FLAGS = {
  port: { type: 'string', env: 'SHARED_SESSION_PORT' },
  host: { type: 'string', env: 'SHARED_SESSION_HOST' },
  path: { type: 'string', env: 'SHARED_SESSION_PATH' },
  'allowed-origin': { type: 'string', multiple: true, env: 'SHARED_SESSION_ALLOWED_ORIGINS' },
  secret: { type: 'string', env: 'SHARED_SESSION_SECRET' },
  'public-key-file': { type: 'string', env: 'SHARED_SESSION_PUBLIC_KEY_FILE' },
  'jwks-url': { type: 'string', env: 'SHARED_SESSION_JWKS_URL' },
  issuer: { type: 'string', multiple: true, env: 'SHARED_SESSION_ISSUER' },
  audience: { type: 'string', multiple: true, env: 'SHARED_SESSION_AUDIENCE' },
  'roles-claim': { type: 'string', env: 'SHARED_SESSION_ROLES_CLAIM' },
  'clock-tolerance': { type: 'string', env: 'SHARED_SESSION_CLOCK_TOLERANCE' },
  permissions: { type: 'string', env: 'SHARED_SESSION_PERMISSIONS' },
  'schema-version': { type: 'string', multiple: true, env: 'SHARED_SESSION_SCHEMA_VERSIONS' },
  data: { type: 'string', env: 'SHARED_SESSION_DATA' },
  memory: { type: 'boolean', env: 'SHARED_SESSION_MEMORY' },
  redis: { type: 'string', env: 'SHARED_SESSION_REDIS_URL' },
  'redis-prefix': { type: 'string', env: 'SHARED_SESSION_REDIS_PREFIX' },
  'log-level': { type: 'string', env: 'SHARED_SESSION_LOG_LEVEL' },
  help: { type: 'boolean', env: undefined },
} as const satisfies Record<string, FlagSpec>;

/** Environment variable holding the PEM public key itself (the alternative to a key file). */
export const PUBLIC_KEY_ENV_VAR = 'SHARED_SESSION_PUBLIC_KEY';

/** What hosting platforms set: the port, read when neither `--port` nor `SHARED_SESSION_PORT` is given. */
export const PLATFORM_PORT_ENV_VAR = 'PORT';

type Flags = typeof FLAGS;
type FlagName = keyof Flags;

/** The value of every flag, from the command line or its environment variable. */
export type FlagValues = {
  -readonly [K in FlagName]?: Flags[K]['type'] extends 'boolean'
    ? boolean
    : Flags[K] extends { multiple: true }
      ? string[]
      : string;
};

/** A usage error: bad flags or values (exit code 2). */
export class UsageError extends Error {
  override name = 'UsageError' as const;
}

/**
 * Parses `argv` and fills what it lacks from `env`.
 *
 * @param argv - the arguments
 * @param env - the environment
 * @throws TypeError from `parseArgs` (unknown flag, missing value); {@link UsageError} for a bad boolean variable
 */
export function readFlags(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): FlagValues {
  const { values } = parseArgs({ args: [...argv], options: FLAGS, strict: true, allowPositionals: false });
  const merged: Record<string, string | boolean | string[] | undefined> = { ...values };
  for (const [name, spec] of Object.entries(FLAGS) as [FlagName, FlagSpec][]) {
    const raw = spec.env === undefined ? undefined : env[spec.env];
    if (merged[name] !== undefined || raw === undefined || raw === '') continue;
    if (spec.type === 'boolean') merged[name] = booleanOf(raw, spec.env ?? name);
    else if (spec.multiple)
      merged[name] = raw
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part.length > 0);
    else merged[name] = raw;
  }
  const platformPort = env[PLATFORM_PORT_ENV_VAR];
  if (merged.port === undefined && platformPort !== undefined && platformPort !== '') merged.port = platformPort;
  return merged as FlagValues;
}

function booleanOf(raw: string, variable: string): boolean {
  if (/^(1|true|yes)$/i.test(raw)) return true;
  if (/^(0|false|no)$/i.test(raw)) return false;
  throw new UsageError(`${variable} must be 1/true or 0/false, got ${JSON.stringify(raw)}`);
}

/**
 * The usage text's list of environment variables, one per flag.
 */
export function environmentHelp(): string {
  const rows = Object.entries(FLAGS)
    .filter(([, spec]) => spec.env !== undefined)
    .map(([name, spec]) => `  ${(spec.env ?? '').padEnd(32)}--${name}`);
  rows.push(`  ${PUBLIC_KEY_ENV_VAR.padEnd(32)}the PEM itself (instead of a key file)`);
  rows.push(`  ${PLATFORM_PORT_ENV_VAR.padEnd(32)}--port, when SHARED_SESSION_PORT is not set`);
  return rows.join('\n');
}
