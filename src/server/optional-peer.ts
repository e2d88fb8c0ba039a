/**
 * The store backends' packages (`lmdb`, `ioredis`) are optional peer dependencies: a browser-only
 * install of shared-session pulls neither (lmdb is native code), and the server loads each one
 * only when its store is chosen.
 */

/** An optional peer dependency: the package and what needs it (for the error when it is missing). */
export interface OptionalPeer {
  /** The npm package. */
  readonly name: string;
  /** What needs it, as the error says it: `the durable LMDB store (\`store: { path }\`, …)`. */
  readonly neededBy: string;
}

/** `lmdb`, for the durable store. */
export const LMDB_PEER: OptionalPeer = {
  name: 'lmdb',
  neededBy: 'the durable LMDB store (`store: { path }`, `--data`, `openLmdbTopicStore`)',
};

/** `ioredis`, for the Redis store and fan-out. */
export const IOREDIS_PEER: OptionalPeer = {
  name: 'ioredis',
  neededBy: 'the Redis store (`store: { redis }`, `--redis`, `openRedisBackend`)',
};

/**
 * A store was chosen whose package is not installed. `packageName` is what to install.
 *
 * Thrown by `shared-session/server` (`createSessionServer`, the CLI, `openLmdbTopicStore`,
 * `openRedisBackend`); tell it by `error.code === 'MISSING_PEER_DEPENDENCY'`.
 *
 * @example
 * ```ts
 * try {
 *   await createSessionServer({ auth, store: { path: './data' } });
 * } catch (error) {
 *   if ((error as { code?: string }).code === 'MISSING_PEER_DEPENDENCY') console.error((error as Error).message);
 * }
 * ```
 */
export class MissingPeerDependencyError extends Error {
  static readonly code = 'MISSING_PEER_DEPENDENCY';
  override name = 'MissingPeerDependencyError' as const;
  readonly code = MissingPeerDependencyError.code;
  /** The package to install (`lmdb`, `ioredis`). */
  readonly packageName: string;

  /** @param peer - the missing package; @param options - `{ cause }`: the loader's error */
  constructor(peer: OptionalPeer, options?: { cause?: unknown }) {
    super(
      `${peer.neededBy} needs the optional peer dependency "${peer.name}", which is not installed: ` +
        `run \`npm install ${peer.name}\``,
      options,
    );
    this.packageName = peer.name;
  }
}

/** Whether `error` says that the package `name` itself (not something it imports) cannot be found. */
function isMissing(error: unknown, name: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  // Node: "Cannot find package 'lmdb' imported from …"; bundlers' runtimes: "Cannot find module 'lmdb'".
  return typeof message === 'string' && (message.includes(`'${name}'`) || message.includes(`"${name}"`));
}

/**
 * Loads an optional peer at the point of use. The caller passes `import('<name>')` written out, so
 * bundlers of a server still see a literal specifier.
 *
 * @param peer - the package (its name and what needs it), for the error
 * @param load - `() => import('<peer.name>')`
 * @returns the module
 * @throws {@link MissingPeerDependencyError} when the package is not installed; the loader's own
 *   error when it is installed but fails to load (a native binary for another platform)
 * @example
 * ```ts
 * const { open } = await loadOptionalPeer(LMDB_PEER, () => import('lmdb'));
 * ```
 */
export async function loadOptionalPeer<Module>(peer: OptionalPeer, load: () => Promise<Module>): Promise<Module> {
  try {
    return await load();
  } catch (error) {
    if (isMissing(error, peer.name)) throw new MissingPeerDependencyError(peer, { cause: error });
    throw error;
  }
}

/**
 * Whether an optional peer is installed, loading it as {@link loadOptionalPeer} does (the CLI's
 * default store is LMDB when `lmdb` is installed). A package that is installed but fails to load
 * counts as installed: opening its store then reports why.
 *
 * @param peer - the package
 * @param load - `() => import('<peer.name>')`
 * @example
 * ```ts
 * const durable = await isOptionalPeerInstalled(LMDB_PEER, () => import('lmdb'));
 * ```
 */
export async function isOptionalPeerInstalled(peer: OptionalPeer, load: () => Promise<unknown>): Promise<boolean> {
  try {
    await load();
    return true;
  } catch (error) {
    return !isMissing(error, peer.name);
  }
}
