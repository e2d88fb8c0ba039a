import type { SessionInfo } from '../protocol/host-api.js';

/** The running session's identity and token, as the host holds it. */
export interface HostedSession {
  readonly id: string;
  readonly userId: string;
  readonly roles: string[];
  token: string;
  /** `exp` of the current token, epoch ms on the server's clock; `null` = never. */
  expiresAt: number | null;
  readonly serverUrl: string;
  readonly schemaVersion: number | undefined;
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
