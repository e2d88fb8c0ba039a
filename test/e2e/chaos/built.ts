/** Loads a module of the built package snapshot the suite runs against (`.tmp/e2e-dist`), typed as its source. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST_DIR } from '../paths.ts';

/**
 * @param file - path inside `dist/`, e.g. `testing/host-targets.js`
 * @example
 * ```ts
 * const { attachToTarget } = await loadBuilt<typeof HostTargets>('testing/host-targets.js');
 * ```
 */
export async function loadBuilt<T>(file: string): Promise<T> {
  return (await import(pathToFileURL(path.join(DIST_DIR, file)).href)) as T;
}
