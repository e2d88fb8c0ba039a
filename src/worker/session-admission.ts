import { SessionError, SessionRolesMismatchError, TokenExpiredError, UnauthorizedError } from '../errors/index.js';
import type { SessionInfo, StartSessionRequest } from '../protocol/host-api.js';
import { decodeTokenClaims, isExpired, sameRoles, type TokenClaims } from '../shared/token-claims.js';
import type { HostedSession } from './hosted-session.js';
import type { SessionController } from './session-controller.js';
import type { AttachedTab } from './tab-registry.js';
import { refreshForStart, type StartRefresh } from './token-refresher.js';

/**
 * What a token brought by a tab means for the session (spec §3–§4): join the running session or
 * replace it, resume a stored one, never downgrade a token, refuse with a typed error. The rules
 * live here; the {@link SessionController} carries them out.
 */

/**
 * `startSession` from `tab`: starts, resumes, replaces or joins the session.
 *
 * @param session - the host's session controller
 * @param tab - the calling tab
 * @param request - what the tab passed
 */
export async function admitStart(
  session: SessionController,
  tab: AttachedTab,
  request: StartSessionRequest,
): Promise<SessionInfo> {
  let claims: TokenClaims;
  try {
    claims = decodeTokenClaims(request.token);
  } catch (error) {
    if (!session.session) session.refuse('UNAUTHORIZED', (error as Error).message);
    throw error;
  }
  const current = session.session;
  if (current && current.userId === claims.userId && sameRoles(current.roles, claims.roles)) {
    // Registered first so that the join's refresh (an expired token) may call it; removed if refused.
    if (request.refresh) session.tabs.addRefresh(tab, request.refresh);
    try {
      await join(session, tab, current, request, claims);
    } catch (error) {
      if (request.refresh) tab.refresh.delete(request.refresh.refreshId);
      session.track();
      throw error;
    }
    return session.requireInfo();
  }
  if (current) session.end('another user started a session');

  // The socket does not wait for IndexedDB: it dials beside the read of the stored session (which
  // decides the session id: resumed or new), and `hello` goes once the start is decided.
  let ahead =
    request.autoConnect && !isExpired(claims.expiresAt, session.serverNow())
      ? session.dialAhead({ serverUrl: request.serverUrl, token: request.token, schemaVersion: request.schemaVersion })
      : undefined;
  try {
    const stored = await session.persistence.load();
    const resumes = stored?.userId === claims.userId && stored.serverUrl === request.serverUrl;
    if (resumes) session.restoreClockOffset(stored.clockOffsetMs);
    let token = request.token;
    let offline = false;
    if (isExpired(claims.expiresAt, session.serverNow())) {
      // Expired on the server's clock as stored: refresh first, never a hello with this token.
      ahead?.cancel();
      ahead = undefined;
      const refreshed = await refreshExpiredStart(session, tab, request);
      if (refreshed === 'unreachable' && resumes) {
        // Offline-first: the handler could not reach its token endpoint. Resume the stored session
        // offline (cache served, publishes queued) and keep retrying the refresh until it answers.
        offline = true;
      } else if (refreshed === undefined || refreshed === 'unreachable') {
        throw refuseExpiredStart(session, request.refresh !== undefined);
      } else {
        ({ token, claims } = refreshed);
      }
    }
    if (stored && !resumes) await session.persistence.forget();
    // The start succeeded: only now does its refresh handler count (a refused start leaves none).
    if (request.refresh) session.tabs.addRefresh(tab, request.refresh);
    const next: HostedSession = {
      id: resumes ? stored.id : crypto.randomUUID(),
      userId: claims.userId,
      roles: claims.roles,
      token,
      expiresAt: claims.expiresAt,
      serverUrl: request.serverUrl,
      schemaVersion: request.schemaVersion,
    };
    ahead?.decide(next); // its hello goes out after begin() made the session live (a microtask later)
    await session.begin(next, { connect: request.autoConnect, offline, resumed: resumes });
    return session.requireInfo();
  } catch (error) {
    ahead?.cancel(); // the start did not go ahead (a no-op once begun)
    throw error;
  }
}

/**
 * `updateSessionToken`: the same user's new token, sent on the live socket.
 *
 * @param session - the host's session controller
 * @param token - the new token
 */
export async function admitUpdate(session: SessionController, token: string): Promise<SessionInfo> {
  const current = session.require();
  const claims = decodeTokenClaims(token);
  checkReplacement(session, current, claims, 'the new token');
  await session.adopt(current, token, claims);
  // A session error stopped the socket: the app's new token is its way back.
  if (session.phase.name === 'failed') session.apply({ type: 'connect' });
  session.apply({ type: 'token' });
  return session.requireInfo();
}

/**
 * A replacement token must be the same user's, unexpired, with the same roles; other roles end
 * the session with ROLES_MISMATCH (spec §3).
 *
 * @throws `USER_MISMATCH`, {@link TokenExpiredError}, {@link SessionRolesMismatchError}
 */
export function checkReplacement(
  session: SessionController,
  current: HostedSession,
  claims: TokenClaims,
  what: string,
): void {
  if (claims.userId !== current.userId) {
    throw new SessionError('USER_MISMATCH', `${what} is for another user: call startSession(token) instead`);
  }
  if (isExpired(claims.expiresAt, session.serverNow())) throw new TokenExpiredError(`${what} has expired`);
  if (!sameRoles(claims.roles, current.roles)) {
    session.fail('ROLES_MISMATCH', `${what} carried other roles`);
    throw new SessionRolesMismatchError();
  }
}

/** A second `startSession` of the same user: join, upgrading the token only if it lives longer. */
async function join(
  session: SessionController,
  tab: AttachedTab,
  current: HostedSession,
  request: StartSessionRequest,
  claims: TokenClaims,
): Promise<void> {
  if (request.autoConnect) session.apply({ type: 'connect' });
  let token = request.token;
  let usable = !isExpired(claims.expiresAt, session.serverNow());
  const stopped = session.phase.name === 'failed' || session.phase.name === 'awaiting-token';
  if (!usable && stopped) {
    // The session stopped (e.g. its token expired while offline) and this start brings an expired
    // token too: refresh first, exactly as a fresh start would.
    const refreshed = await refreshExpiredStart(session, tab, request);
    if (refreshed === 'unreachable') return session.apply({ type: 'token-unreachable' });
    if (!refreshed) throw refuseExpiredStart(session, request.refresh !== undefined);
    ({ token, claims } = refreshed);
    usable = true;
  }
  const livesLonger = current.expiresAt !== null && (claims.expiresAt === null || claims.expiresAt > current.expiresAt);
  if (usable && (livesLonger || stopped)) {
    await session.adopt(current, token, claims);
    session.apply({ type: 'token' });
  }
  session.track();
}

/** `startSession` with an expired token and a handler: that tab's handler runs first. */
function refreshExpiredStart(
  session: SessionController,
  tab: AttachedTab,
  request: StartSessionRequest,
): Promise<StartRefresh> {
  const refreshId = request.refresh?.refreshId;
  const candidate =
    refreshId === undefined
      ? undefined
      : { tabId: tab.registration.tabId, call: (ms: number) => session.tabs.callRefresh(tab, refreshId, ms) };
  return refreshForStart(candidate, session.serverNow());
}

/** A start with an expired token that no refresh replaced: UNAUTHORIZED in every tab, status CLOSED. */
function refuseExpiredStart(session: SessionController, hadHandler: boolean): UnauthorizedError {
  const message = hadHandler
    ? 'the token had expired and the refreshHandler returned no valid token'
    : 'the token had expired before the session started';
  if (!session.session) session.refuse('UNAUTHORIZED', message);
  return new UnauthorizedError(message);
}
