/**
 * Versions of the two boundaries, kept apart so that each side can be deployed on its own:
 *
 * - the **wire protocol** between a session host and the server (`hello.protocol`): the server
 *   accepts a range, so a rolling deploy can serve old and new hosts at once;
 * - the **host API** between a tab and its host (`attach`): a tab of one build may meet a host of
 *   another (a SharedWorker outlives the tab that loaded it), so the host also accepts a range.
 *
 * Bump `*_VERSION` on an incompatible change; raise `MIN_*` only when the old peer can no longer be
 * served. Internal; re-exported where users need it.
 */

/** Wire protocol this code speaks (host → server `hello.protocol`). */
export const WIRE_PROTOCOL_VERSION = 1;
/** Oldest wire protocol the server still serves. */
export const MIN_WIRE_PROTOCOL_VERSION = 1;

/** Host API this code speaks (tab → host `attach`). */
export const HOST_API_VERSION = 1;
/** Oldest host API a host still serves. */
export const MIN_HOST_API_VERSION = 1;

/**
 * @deprecated Use {@link WIRE_PROTOCOL_VERSION} (wire) or {@link HOST_API_VERSION} (tab ↔ host).
 */
export const PROTOCOL_VERSION = WIRE_PROTOCOL_VERSION;

/**
 * Build id of this package's own page and host code. The source holds a placeholder; the build
 * (`scripts/build.mjs`) replaces it in every emitted file with `shared-session@<version>+<hash of
 * the emitted code>`, so two different builds never share an id. Apps may pass their own to
 * `hostSession`.
 */
export const LIBRARY_BUILD_ID: string = 'shared-session@source';

/** Where a peer's version falls against the range this side serves. */
export type VersionVerdict = 'ok' | 'peer-too-old' | 'peer-too-new';

/**
 * Checks a peer's version against `[min, max]`.
 *
 * @param peer - the version the peer announced
 * @param min - oldest version served
 * @param max - newest version served (this side's own)
 */
export function checkVersion(peer: number, min: number, max: number): VersionVerdict {
  if (!Number.isSafeInteger(peer) || peer < min) return 'peer-too-old';
  return peer > max ? 'peer-too-new' : 'ok';
}

/**
 * A short, actionable sentence for a version mismatch, naming the side that is too old.
 *
 * @param what - the boundary (`'wire protocol'`, `'host API'`)
 * @param peerSide - who the peer is (`'client'`, `'page'`)
 * @param selfSide - who this side is (`'server'`, `'host'`)
 */
export function describeVersionMismatch(
  what: string,
  verdict: Exclude<VersionVerdict, 'ok'>,
  peer: number,
  range: { min: number; max: number },
  peerSide: string,
  selfSide: string,
): string {
  const served = range.min === range.max ? `${range.max}` : `${range.min}–${range.max}`;
  return verdict === 'peer-too-old'
    ? `${peerSide} too old: ${what} ${peer}, ${selfSide} serves ${served}`
    : `${selfSide} too old: ${peerSide} ${what} ${peer}, ${selfSide} serves ${served}`;
}
