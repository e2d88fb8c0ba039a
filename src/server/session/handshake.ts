import { isSessionError, TokenExpiredError } from '../../errors/index.js';
import { CloseCode } from '../../protocol/close-codes.js';
import type { SessionErrorCode } from '../../protocol/error-codes.js';
import {
  checkVersion,
  describeVersionMismatch,
  MIN_WIRE_PROTOCOL_VERSION,
  WIRE_PROTOCOL_VERSION,
} from '../../protocol/version.js';
import { parseClientMessage } from '../../protocol/parse.js';
import { utf8Length } from '../../shared/json-size.js';
import { sameRoles } from '../../shared/token-claims.js';
import type { VerifiedToken } from './token-verifier.js';

/**
 * The decisions of a session's handshake and token updates, apart from the socket: which wire
 * protocol a client is spoken to in, which close code a refused `hello` gets, which error code a
 * refused `update-token` gets. `Connection` applies them; unit tests call them directly.
 *
 * @module
 */

/**
 * Standard close code 1013 "Try Again Later" (RFC 6455 registry): the server could not verify the
 * token right now (JWKS unreachable). Not a session error, so the host reconnects with backoff.
 */
export const TRY_AGAIN_LATER = 1013;

/** Standard close code 1011 "Internal Error": the server failed while processing `hello`. */
export const INTERNAL_ERROR = 1011;

/** Why a socket is closed: the code and a short reason. */
export interface Refusal {
  code: number;
  reason: string;
}

/** Wire protocol versions the server serves, oldest and newest. */
export interface ProtocolRange {
  min: number;
  max: number;
}

/** What this server serves: {@link MIN_WIRE_PROTOCOL_VERSION} to {@link WIRE_PROTOCOL_VERSION}. */
export const SERVED_PROTOCOLS: ProtocolRange = { min: MIN_WIRE_PROTOCOL_VERSION, max: WIRE_PROTOCOL_VERSION };

/**
 * The wire protocol the server speaks to a client that announced `version`: the client's own when
 * it is in `range` (the server speaks down to an older client), or a 4006 refusal whose reason
 * names the side that is too old.
 *
 * @param version - `hello.protocol`
 * @param range - versions served (default {@link SERVED_PROTOCOLS})
 */
export function negotiateProtocol(
  version: number,
  range: ProtocolRange = SERVED_PROTOCOLS,
): { protocol: number } | { refusal: Refusal } {
  const verdict = checkVersion(version, range.min, range.max);
  if (verdict === 'ok') return { protocol: version };
  const reason = describeVersionMismatch('wire protocol', verdict, version, range, 'client', 'server');
  return { refusal: { code: CloseCode.UNSUPPORTED_PROTOCOL, reason } };
}

/**
 * The close for a `hello` whose token failed verification: 1013 when the keys could not be fetched
 * (not the token's fault, so not a fatal 4001), 4001 otherwise.
 *
 * @param error - what the verifier threw
 */
export function helloRefusal(error: unknown): Refusal {
  const reason = isSessionError(error) ? error.message : 'token refused';
  if (isSessionError(error) && error.code === 'INTERNAL') {
    return { code: TRY_AGAIN_LATER, reason: `${reason}: try again later` };
  }
  return { code: CloseCode.UNAUTHORIZED, reason };
}

/**
 * The 4004 close for a schema version the server does not serve, or `undefined` when it is served
 * (or when either side declares none).
 *
 * @param version - `hello.schemaVersion`
 * @param served - the served versions, `undefined` for all
 */
export function schemaRefusal(
  version: number | undefined,
  served: ReadonlySet<number> | undefined,
): Refusal | undefined {
  if (version === undefined || served === undefined || served.has(version)) return undefined;
  return {
    code: CloseCode.SCHEMA_MISMATCH,
    reason: `schema version ${version} not served (serves ${[...served].join(', ')})`,
  };
}

/** An `update-token` refused: the `error` frame's code and message. */
export interface UpdateRefusal {
  code: SessionErrorCode;
  message: string;
}

/**
 * The `error` for an `update-token` whose token failed verification.
 *
 * @param error - what the verifier threw
 */
export function updateVerificationRefusal(error: unknown): UpdateRefusal {
  const code =
    error instanceof TokenExpiredError
      ? 'TOKEN_EXPIRED'
      : isSessionError(error) && error.code === 'INTERNAL'
        ? 'INTERNAL'
        : 'UNAUTHORIZED';
  return { code, message: isSessionError(error) ? error.message : 'token refused' };
}

/**
 * The `error` for a verified token that may not replace the session's: another user's, or other
 * roles (after which the session closes with 4003); `undefined` when it may.
 *
 * @param session - the session's identity
 * @param token - the new token's
 */
export function updateIdentityRefusal(
  session: Readonly<{ userId: string; roles: readonly string[] }>,
  token: VerifiedToken,
): UpdateRefusal | undefined {
  if (token.userId !== session.userId) {
    return { code: 'USER_MISMATCH', message: 'the token is for another user: start a new session' };
  }
  if (!sameRoles(token.roles, session.roles)) {
    return { code: 'ROLES_MISMATCH', message: 'the token has other roles than the session' };
  }
  return undefined;
}

/**
 * Whether a token is longer than `maxBytes` in UTF-8 (checked before verification: a huge token
 * costs nothing to refuse).
 *
 * @param token - from `hello` or `update-token`
 * @param maxBytes - the limit (`limits.maxTokenBytes`)
 */
export function tokenTooLarge(token: string, maxBytes: number): boolean {
  // The UTF-16 length bounds the UTF-8 length from below (and a third of it from above).
  return token.length > maxBytes || (token.length * 3 > maxBytes && utf8Length(token) > maxBytes);
}

/** Frames up to this size that the rate limit refuses are parsed for their id, so the error can answer it. */
export const REFUSED_FRAME_ID_SCAN_BYTES = 64 * 1024;

/**
 * The request id of a frame the rate limit refused, so that its `RATE_LIMITED` error answers it;
 * `undefined` when none can be read or the frame is too large to be worth parsing.
 *
 * @param data - the frame's text
 * @param maxDepth - the server's `maxJsonDepth`
 */
export function refusedFrameId(data: string, maxDepth: number): number | undefined {
  if (data.length > REFUSED_FRAME_ID_SCAN_BYTES) return undefined;
  const parsed = parseClientMessage(data, { maxDepth });
  if (!parsed.ok) return parsed.id;
  return 'id' in parsed.message ? parsed.message.id : undefined;
}

/**
 * The 4011 close for a user who already holds `max` authenticated sockets on this process, or
 * `undefined` when one more is allowed.
 *
 * @param open - the user's authenticated sockets now
 * @param max - `limits.maxSocketsPerUser`
 */
export function socketsRefusal(open: number, max: number): Refusal | undefined {
  if (open < max) return undefined;
  return { code: CloseCode.TOO_MANY_SOCKETS, reason: `too many sockets for this user (limit ${max})` };
}
