import type { SessionError } from '../errors/index.js';
import type { WelcomeMessage } from '../protocol/messages.js';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { rolesFromClaim, sameRoles } from '../shared/token-claims.js';
import type { HostedSession } from './hosted-session.js';
import { readToken, type TokenReading } from './token-rules.js';

/**
 * What the host knows of how the server judges tokens, and the server's word on who the session
 * is: the server's roles claim (from `welcome.rolesClaim`, so the host reads roles exactly as the
 * server does, or `null` when the server decides through `auth.verify`), and the `welcome`'s user,
 * roles and expiry, which win over what the host read from the token (spec §7: custom claims and
 * opaque tokens behave like JWTs in every tab). Also the wait of a start with an opaque token for
 * the server's verdict.
 */
export class ServerIdentity {
  readonly #clock: Clock;
  #rolesClaim: string | null | undefined;
  #verdict: ((error: SessionError | undefined) => void) | undefined;

  /** @param clock - times {@link whenVerified} */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The server's roles claim: a claim path, `null` (`auth.verify`), or `undefined` (not known yet). */
  get rolesClaim(): string | null | undefined {
    return this.#rolesClaim;
  }

  /** Reads a token the way the server judges it (see {@link readToken}). */
  read(token: unknown): TokenReading {
    return readToken(token, this.#rolesClaim);
  }

  /** Restores what a stored session knew of the server before its first `welcome`. */
  restore(stored: { rolesClaim?: string | null }): void {
    if (stored.rolesClaim !== undefined) this.#rolesClaim = stored.rolesClaim;
  }

  /**
   * Takes the server's view from a `welcome`: its roles claim, and the session's user, roles and
   * expiry. Returns what changed (`undefined`: nothing).
   *
   * @param session - the running session, updated in place
   */
  learn(session: HostedSession | undefined, welcome: WelcomeMessage): { newUser: boolean } | undefined {
    const view = welcome as WelcomeMessage & { rolesClaim?: string | null };
    if (view.rolesClaim !== undefined) this.#rolesClaim = view.rolesClaim;
    this.#settle(undefined);
    if (!session) return undefined;
    const roles = rolesFromClaim(welcome.roles);
    const expiresAt = welcome.expiresAt === undefined ? session.expiresAt : welcome.expiresAt;
    const newUser = session.userId !== welcome.userId;
    if (!newUser && sameRoles(session.roles, roles) && session.expiresAt === expiresAt) return undefined;
    session.userId = welcome.userId;
    session.roles = roles;
    session.expiresAt = expiresAt;
    return { newUser };
  }

  /** The server refused the session (a session error): a start waiting for its verdict rejects. */
  refused(error: SessionError): void {
    this.#settle(error);
  }

  /**
   * Resolves at the server's next `welcome`, rejects with its refusal, or resolves after `ms`
   * (offline: the start stands unverified).
   */
  whenVerified(ms: number): Promise<void> {
    this.#settle(undefined);
    return new Promise<void>((resolve, reject) => {
      const timer: TimerHandle = this.#clock.setTimeout(() => this.#settle(undefined), ms);
      this.#verdict = (error) => {
        this.#clock.clearTimeout(timer);
        this.#verdict = undefined;
        if (error) reject(error);
        else resolve();
      };
    });
  }

  #settle(error: SessionError | undefined): void {
    this.#verdict?.(error);
  }
}
