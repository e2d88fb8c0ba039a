/**
 * Version of the wire protocol between host and server, and of the RPC boundary between a tab and
 * its host. Bumped on any incompatible change; both sides refuse a peer with another version.
 *
 * Import from `shared-session/errors` is not needed: this module is internal and re-exported where
 * users need it.
 */
export const PROTOCOL_VERSION = 1;
