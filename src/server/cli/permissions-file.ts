import { readFile } from 'node:fs/promises';
import { compilePermissions, type TopicPermissions } from '../topics/permissions.js';
import { UsageError } from './flags.js';

/**
 * `--permissions FILE`: the `permissions` option as a JSON file, read and checked before the server
 * starts, and the warning the CLI prints when there is none.
 *
 * @module
 */

/**
 * What the CLI prints (to stderr) when it starts without `--permissions`: the default lets every
 * signed-in user read and write every topic that is not another user's `user:<sub>`.
 */
export const NO_PERMISSIONS_WARNING =
  'warning: no --permissions file: every signed-in user may read and write every topic except ' +
  "other users' user:<sub> topics; pass --permissions FILE (JSON of the permissions option) to restrict them";

/**
 * Reads and checks a permissions file.
 *
 * @param file - path of a JSON file: `{ "<pattern>": { "read": [roles], "write": [roles] }, … }`
 * @throws {@link UsageError} naming the file: unreadable, not JSON, or not a valid `permissions` option
 */
export async function readPermissionsFile(file: string): Promise<TopicPermissions> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new UsageError(`cannot read --permissions ${JSON.stringify(file)}`, { cause });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new UsageError(`--permissions ${JSON.stringify(file)} is not valid JSON: ${detail}`, { cause });
  }
  try {
    compilePermissions(parsed as TopicPermissions);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new UsageError(`--permissions ${JSON.stringify(file)}: ${detail}`, { cause });
  }
  return parsed as TopicPermissions;
}
