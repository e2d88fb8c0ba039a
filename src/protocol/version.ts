/**
 * Version of the wire protocol between host and server, and of the RPC boundary between a tab and
 * its host. Bumped on any incompatible change; both sides refuse a peer with another version.
 *
 * Import from `shared-session/errors` is not needed: this module is internal and re-exported where
 * users need it.
 */
export const PROTOCOL_VERSION = 1;

/** Build id of this package's own page and host code (apps may pass their own to `hostSession`). */
export const LIBRARY_BUILD_ID = 'shared-session@0.1.0';
