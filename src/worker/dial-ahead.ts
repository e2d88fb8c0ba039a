import type { ConnectionSupervisor } from './connection-supervisor.js';
import type { HostedSession } from './hosted-session.js';

/**
 * A socket dialed for a start still being decided (the stored session loading from IndexedDB):
 * its socket-owner lock, TCP connect and upgrade run beside the read, and `hello` waits for the
 * session id — resumed or new — so IndexedDB never sits in front of the socket (spec §10).
 */
export interface DialAhead {
  /** The server it dials. */
  readonly serverUrl: string;
  /** The start went ahead as `session`: hello goes with its id (and its token at each dial). */
  decide(session: HostedSession): void;
  /** The start went another way (refused, refresh first): the socket closes unused. No-op once decided. */
  cancel(): void;
}

/** What a start asks for before its session is decided. */
export interface DialAheadRequest {
  serverUrl: string;
  /** The start's token; the decided session's is used once known (it may be refreshed later). */
  token: string;
  schemaVersion: number | undefined;
}

/**
 * Starts `supervisor`'s socket for `request` with its `hello` held until {@link DialAhead.decide}.
 * The caller makes sure no socket runs yet.
 *
 * @param supervisor - the host's connection supervisor
 * @param request - server, token and schema of the start
 */
export function dialAhead(supervisor: ConnectionSupervisor, request: DialAheadRequest): DialAhead {
  let decided: HostedSession | undefined;
  let resolveId!: (id: string) => void;
  // Never rejected: a cancelled dial stops the connection, which drops its pending hello with it.
  const sessionId = new Promise<string>((resolve) => (resolveId = resolve));
  supervisor.start({
    serverUrl: request.serverUrl,
    sessionId,
    token: () => decided?.token ?? request.token,
    schemaVersion: request.schemaVersion,
  });
  return {
    serverUrl: request.serverUrl,
    decide(session) {
      decided = session;
      resolveId(session.id);
    },
    cancel() {
      if (!decided) supervisor.stop();
    },
  };
}
