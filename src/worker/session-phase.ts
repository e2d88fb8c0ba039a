import type { ConnectionStatus } from '../protocol/host-api.js';
import type { SessionErrorType } from '../protocol/error-codes.js';

/** Where a session goes once what holds it back is gone: a running socket, or none (the app disconnected). */
export type Resumption = 'live' | 'paused';

/**
 * Where the host's session is. One union instead of flags kept in step: the socket runs exactly
 * in `live`, and every change goes through {@link nextPhase}.
 */
export type SessionPhase =
  /** No session. */
  | { name: 'idle' }
  /** No session: the last start was refused (status `CLOSED`, the error reached every tab). */
  | { name: 'refused'; error: SessionErrorType }
  /** A session; the app wants no socket (`autoConnect: false`, or `disconnect()`). */
  | { name: 'paused' }
  /** A session with its socket running (connecting, open, or waiting out a backoff). */
  | { name: 'live' }
  /** Live, but no tab is attached any more: the socket closed after the grace, reopens on attach. */
  | { name: 'suspended' }
  /**
   * The token expired while offline and the refresh handler could not reach its endpoint: cache
   * served, publishes queued, no socket, the refresh retried until a token arrives.
   */
  | { name: 'awaiting-token'; resume: Resumption }
  /** A session error stopped the socket; a new token (`updateSessionToken`, a start) resumes `resume`. */
  | { name: 'failed'; error: SessionErrorType; resume: Resumption }
  /** Another host took the socket-owner lock from this (frozen) one: nothing runs here any more. */
  | { name: 'superseded' };

/** What happens to a session. */
export type SessionEvent =
  /** A session starts (the previous one, if any, ended first). */
  | { type: 'start'; connect: boolean }
  /** `endSession()`, the server's SESSION_ENDED, or another user's start. */
  | { type: 'end' }
  /** The app asked for a socket (`connect()`, a start with `autoConnect`). */
  | { type: 'connect' }
  /** The app asked for no socket (`disconnect()`). */
  | { type: 'disconnect' }
  /** A usable token arrived (token update, refresh, a start of the same user). */
  | { type: 'token' }
  /** The token is expired and no new one could be fetched (offline). */
  | { type: 'token-unreachable' }
  /** A session error (UNAUTHORIZED, TOKEN_EXPIRED, ROLES_MISMATCH, SCHEMA_MISMATCH). */
  | { type: 'fail'; error: SessionErrorType }
  /** A start without a running session was refused (no session is created). */
  | { type: 'refuse'; error: SessionErrorType }
  /** Another host stole the socket-owner lock (fencing). Final. */
  | { type: 'superseded' }
  /** The last tab left and the grace passed. */
  | { type: 'tabs-gone' }
  /** A tab attached. */
  | { type: 'tab-attached' };

/** The phase of a host without a session. */
export const IDLE: SessionPhase = { name: 'idle' };

/** Whether a session exists in `phase`. */
export function hasSession(phase: SessionPhase): boolean {
  return phase.name !== 'idle' && phase.name !== 'refused';
}

/** Where `phase` resumes to once unblocked: what the app last asked for. */
export function resumptionOf(phase: SessionPhase): Resumption {
  switch (phase.name) {
    case 'awaiting-token':
    case 'failed':
      return phase.resume;
    case 'live':
    case 'suspended':
      return 'live';
    default:
      return 'paused';
  }
}

/**
 * The session's transitions, all in one place. Pure: returns the next phase (the same object when
 * nothing changes), and the host applies the effects of entering and leaving phases.
 *
 * @param phase - the current phase
 * @param event - what happened
 */
export function nextPhase(phase: SessionPhase, event: SessionEvent): SessionPhase {
  if (phase.name === 'superseded') return phase;
  if (event.type === 'superseded') return { name: 'superseded' };
  if (event.type === 'start') return event.connect ? { name: 'live' } : { name: 'paused' };
  if (event.type === 'end') return hasSession(phase) ? IDLE : phase;
  if (phase.name === 'idle' || phase.name === 'refused') {
    // Nothing else applies without a session.
    return event.type === 'refuse' ? { name: 'refused', error: event.error } : phase;
  }
  switch (event.type) {
    case 'connect':
      if (phase.name === 'paused') return { name: 'live' };
      if (phase.name === 'failed' || phase.name === 'awaiting-token') return { ...phase, resume: 'live' };
      return phase;
    case 'disconnect':
      if (phase.name === 'live' || phase.name === 'suspended') return { name: 'paused' };
      if (phase.name === 'failed' || phase.name === 'awaiting-token') return { ...phase, resume: 'paused' };
      return phase;
    case 'token':
      return phase.name === 'failed' || phase.name === 'awaiting-token' ? { name: phase.resume } : phase;
    case 'token-unreachable':
      return phase.name === 'awaiting-token' ? phase : { name: 'awaiting-token', resume: resumptionOf(phase) };
    case 'fail':
      // The first error wins: later closes of the same socket do not re-report.
      return phase.name === 'failed' ? phase : { name: 'failed', error: event.error, resume: resumptionOf(phase) };
    case 'tabs-gone':
      return phase.name === 'live' ? { name: 'suspended' } : phase;
    case 'tab-attached':
      return phase.name === 'suspended' ? { name: 'live' } : phase;
    case 'refuse':
      return phase; // a running session is not a refused start
    default:
      return phase;
  }
}

/**
 * The connection status tabs see for a phase: `UNINITIALIZED` without a session (and for a session
 * started without `autoConnect` that never connected), the socket's own status while live, `CLOSED`
 * otherwise.
 *
 * @param phase - the session's phase
 * @param socketStatus - the connection supervisor's status (`UNINITIALIZED` until it first dials for
 *   the session)
 */
export function statusOf(phase: SessionPhase, socketStatus: ConnectionStatus): ConnectionStatus {
  switch (phase.name) {
    case 'idle':
      return 'UNINITIALIZED';
    case 'live':
      return socketStatus;
    case 'paused':
      return socketStatus === 'UNINITIALIZED' ? 'UNINITIALIZED' : 'CLOSED';
    default:
      return 'CLOSED';
  }
}

/** Why leaving `live` for `next` closes the socket (kept in the host's closes). */
export const stopReason = (next: SessionPhase): string =>
  next.name === 'failed'
    ? `session error ${next.error}`
    : next.name === 'paused'
      ? 'disconnect()'
      : next.name === 'suspended'
        ? 'no tab left'
        : next.name === 'superseded'
          ? 'another host took over'
          : next.name === 'awaiting-token'
            ? 'token expired offline'
            : 'session ended';
