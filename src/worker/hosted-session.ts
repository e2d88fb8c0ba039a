import type { SessionInfo } from '../protocol/host-api.js';

/** The running session's identity and token, as the host holds it. */
export interface HostedSession {
  readonly id: string;
  /** `sub`, as the token says and the server's `welcome` confirms; `''` until an opaque token's welcome. */
  userId: string;
  /** Roles as the server reads them (its `welcome`), sorted. */
  roles: string[];
  token: string;
  /** `'opaque'`: the host cannot read the token; user, roles and expiry come from the server. */
  tokenKind: 'jwt' | 'opaque';
  /**
   * Tokens this session held before (newest last, at most {@link PREVIOUS_TOKENS_KEPT}; memory
   * only): a tab that starts with one of them joins, as a JWT of the same user would.
   */
  previousTokens?: string[];
  /** `exp` of the current token, epoch ms on the server's clock; `null` = never. */
  expiresAt: number | null;
  readonly serverUrl: string;
  readonly schemaVersion: number | undefined;
}

/** How many replaced tokens a session remembers (see {@link HostedSession.previousTokens}). */
export const PREVIOUS_TOKENS_KEPT = 8;

/** Whether `token` is, or was, this session's token. */
export function heldToken(session: HostedSession, token: string): boolean {
  return session.token === token || (session.previousTokens?.includes(token) ?? false);
}

/**
 * What tabs learn of a session: its identity, token expiry and how many tabs are attached — never
 * the token.
 *
 * @param session - the running session
 * @param tabs - tabs attached to the host
 */
export function sessionInfoOf(session: HostedSession, tabs: number): SessionInfo {
  return { id: session.id, userId: session.userId, roles: [...session.roles], expiresAt: session.expiresAt, tabs };
}
