import { type SessionError, SessionRolesMismatchError, UnauthorizedError } from '../errors/index.js';
import { SESSION_ERROR_TYPES, type SessionErrorType } from '../protocol/error-codes.js';
import type { SessionInfo, StartSessionRequest } from '../protocol/host-api.js';
import { isExpired, sameRoles, type TokenClaims } from '../shared/token-claims.js';
import { heldToken, type HostedSession } from './hosted-session.js';
import type { SessionController } from './session-controller.js';
import type { AttachedTab } from './tab-registry.js';
import { refreshForStart, type StartRefresh } from './token-refresher.js';
import { replacementError, type TokenReading } from './token-rules.js';

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
  let reading: TokenReading;
  try {
    reading = session.identity.read(request.token);
  } catch (error) {
    if (!session.session) session.refuse('UNAUTHORIZED', (error as Error).message);
    throw error;
  }
  const current = session.session;
  if (reading.kind === 'opaque') return admitOpaqueStart(session, tab, request);
  let claims = reading.claims;
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
    if (resumes) {
      session.restoreClockOffset(stored.clockOffsetMs);
      session.identity.restore(stored);
    }
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
      tokenKind: 'jwt',
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
 * A start with an opaque token (see `readToken`): the same token joins the running session; any
 * other ends it and starts one whose user, roles and expiry the server's `welcome` tells — the start
 * resolves once the server accepted the token (or rejects with its refusal, leaving no session).
 */
async function admitOpaqueStart(
  session: SessionController,
  tab: AttachedTab,
  request: StartSessionRequest,
): Promise<SessionInfo> {
  const current = session.session;
  if (current?.tokenKind === 'opaque' && heldToken(current, request.token)) {
    if (request.refresh) session.tabs.addRefresh(tab, request.refresh);
    if (request.autoConnect) session.apply({ type: 'connect' });
    session.track();
    return session.requireInfo();
  }
  if (current) session.end('a start with another token');
  const stored = await session.persistence.load();
  // Whose an opaque token is, only the server knows: resume only the very token that was stored.
  const resumes = stored?.token === request.token && stored.serverUrl === request.serverUrl;
  if (stored && !resumes) await session.persistence.forget();
  if (resumes) session.restoreClockOffset(stored.clockOffsetMs);
  if (request.refresh) session.tabs.addRefresh(tab, request.refresh);
  const next: HostedSession = {
    id: resumes ? stored.id : crypto.randomUUID(),
    userId: resumes ? stored.userId : '',
    roles: resumes ? [...stored.roles] : [],
    token: request.token,
    expiresAt: resumes ? stored.expiresAt : null,
    serverUrl: request.serverUrl,
    schemaVersion: request.schemaVersion,
    tokenKind: 'opaque',
  };
  // Listening for the server's verdict before the socket can bring it.
  const verdict = request.autoConnect ? session.identity.whenVerified(OPAQUE_VERIFY_TIMEOUT_MS) : undefined;
  verdict?.catch(() => undefined); // observed below
  await session.begin(next, { connect: request.autoConnect, offline: false, resumed: resumes });
  if (!verdict) return session.requireInfo();
  try {
    await verdict;
  } catch (error) {
    if (request.refresh) tab.refresh.delete(request.refresh.refreshId);
    // No session is left behind: the error already reached every tab; the status ends CLOSED.
    const code = (error as SessionError).code;
    session.end('the server refused the token');
    session.apply({ type: 'refuse', error: isSessionErrorType(code) ? code : 'UNAUTHORIZED' });
    throw error;
  }
  return session.requireInfo();
}

/** How long a start with an opaque token waits for the server's verdict before it resolves unverified. */
export const OPAQUE_VERIFY_TIMEOUT_MS = 15_000;

/**
 * `updateSessionToken`: the same user's new token, sent on the live socket.
 *
 * @param session - the host's session controller
 * @param token - the new token
 */
export async function admitUpdate(session: SessionController, token: string): Promise<SessionInfo> {
  const current = session.requireSession();
  const reading = session.identity.read(token);
  // An opaque token is checked by the server alone (other user: USER_MISMATCH; other roles: 4003).
  const claims = reading.kind === 'jwt' ? reading.claims : undefined;
  if (claims) checkReplacement(session, current, claims, 'the new token');
  await session.adopt(current, token, claims);
  // A session error stopped the socket: the app's new token is its way back.
  if (session.phase.name === 'failed') session.apply({ type: 'connect' });
  session.apply({ type: 'token' });
  return session.requireInfo();
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

/**
 * Throws why `claims` cannot replace the session's token (see {@link replacementError}); a token
 * with other roles ends the session with ROLES_MISMATCH first. With `auth.verify` the server alone
 * knows the roles: it refuses other roles itself (4003).
 */
function checkReplacement(session: SessionController, current: HostedSession, claims: TokenClaims, what: string) {
  const compareRoles = session.identity.rolesClaim !== null;
  const error = replacementError(current, claims, session.serverNow(), what, compareRoles);
  if (!error) return;
  if (error instanceof SessionRolesMismatchError) session.fail('ROLES_MISMATCH', error.message);
  throw error;
}

/**
 * A token a background refresh produced: checked like an update, then adopted (the refresher's
 * `adopt`). `'stop'` ends the round: the session ended, failed, or failed with it (other roles).
 *
 * @param session - the host's session controller
 * @param token - what the refresh handler returned
 */
export async function admitRefreshed(session: SessionController, token: string): Promise<'adopted' | 'stop'> {
  const current = session.session as HostedSession | undefined;
  if (!current || session.isStopped(current)) return 'stop';
  const reading = session.identity.read(token);
  const claims = reading.kind === 'jwt' ? reading.claims : undefined;
  try {
    if (claims) checkReplacement(session, current, claims, 'the refreshed token');
  } catch (error) {
    if (error instanceof SessionRolesMismatchError) return 'stop'; // the session failed with it
    throw error;
  }
  await session.adopt(current, token, claims);
  if (session.isStopped(current)) return 'stop';
  session.apply({ type: 'token' });
  return 'adopted';
}

const isSessionErrorType = (code: string): code is SessionErrorType =>
  (SESSION_ERROR_TYPES as readonly string[]).includes(code);
