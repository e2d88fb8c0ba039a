import type { RefreshRecord } from '../protocol/host-api.js';
import { systemClock, type Clock, type TimerHandle } from '../shared/clock.js';
import { decodeTokenClaims, isExpired, type TokenClaims } from '../shared/token-claims.js';
import {
  localExpiry,
  MIN_REFRESH_CALL_TIMEOUT_MS,
  MIN_REFRESH_GAP_MS,
  nextRefreshAt,
  REFRESH_CALL_TIMEOUT_MS,
  refreshRetryDelay,
} from './refresh-schedule.js';
import { HOST_HISTORY_ENTRIES, keepLast } from './host-log.js';

/** One tab's refresh handler, as the refresher may call it. */
export interface RefreshCandidate {
  /** The tab it runs in (for logs and the refresh history). */
  tabId: string;
  /**
   * Runs the handler with a deadline of `deadlineMs`. Resolves with the new token or `undefined`
   * ("no new token"); rejects when the handler threw, timed out, or its tab closed.
   */
  call(deadlineMs: number): Promise<string | undefined>;
}

/** How one handler call of a round ended. */
type CallResult =
  | { id: number; candidate: RefreshCandidate; ok: true; token: string | undefined }
  | { id: number; candidate: RefreshCandidate; ok: false };

/** How one refresh round ended. */
export type RefreshOutcome =
  /** A tab's handler gave a token and the session adopted it. */
  | { type: 'refreshed'; tabId: string; token: string; failovers: number }
  /** A handler answered "no new token": the session ends at `exp`. */
  | { type: 'no-token'; tabId: string }
  /** Every handler failed (or none is registered); a retry is scheduled while the token lives. */
  | { type: 'failed'; failovers: number }
  /** The session stopped the round (ended, failed, roles changed). */
  | { type: 'stopped' };

/** What the refresher needs from the session host. */
export interface TokenRefresherHost {
  /** Handlers to try, best first (visible tabs first, then the most recent registration). */
  candidates(): RefreshCandidate[];
  /** The `interval` of the most recent registration that set one. */
  interval(): number | undefined;
  /**
   * Validates and adopts a token a handler returned. Resolves `'adopted'`, or `'stop'` when the
   * round must end (the session failed, e.g. ROLES_MISMATCH, or ended); throws to try the next tab.
   */
  adopt(token: string): Promise<'adopted' | 'stop'>;
  /** The token's local expiry was reached (the host decides whether it is still current). */
  expired(): void;
  /** Reports the end of each round (logs, devtools refresh history). */
  reported?(outcome: RefreshOutcome, durationMs: number): void;
}

/** The token the refresher keeps fresh. */
export interface RefreshTarget {
  /** `exp` on the server's clock, epoch ms, `null` = never. */
  expiresAt: number | null;
  /** Server clock minus local clock, ms. */
  clockOffsetMs: number;
}

/**
 * Keeps the session's token fresh (spec §3, §4): runs **one** tab's `refreshHandler` per expiry
 * (single flight) `REFRESH_LEAD_MS` before `exp` corrected by the clock offset, or every
 * `interval`; fails over to the next tab when one throws, times out or closed; retries a round in
 * which every handler failed with backoff; and fires {@link TokenRefresherHost.expired} at the
 * token's local expiry. Time comes from an injected {@link Clock}.
 */
export class TokenRefresher {
  readonly #host: TokenRefresherHost;
  readonly #clock: Clock;
  #target: RefreshTarget | undefined;
  #refreshTimer: TimerHandle | undefined;
  #expiryTimer: TimerHandle | undefined;
  #inFlight: Promise<RefreshOutcome> | undefined;
  #failures = 0;
  #refreshedAt = 0;
  #refreshes = 0;
  #nextAt: number | undefined;
  readonly #history: RefreshRecord[] = [];

  /**
   * @param host - the session host's side
   * @param clock - time source
   */
  constructor(host: TokenRefresherHost, clock: Clock = systemClock) {
    this.#host = host;
    this.#clock = clock;
  }

  /** Refreshes completed (a token adopted) since the refresher was created. */
  get refreshes(): number {
    return this.#refreshes;
  }

  /** The last rounds, oldest first (devtools' refresh history). */
  get history(): RefreshRecord[] {
    return [...this.#history];
  }

  /** Local epoch ms of the next scheduled round, if any. */
  get nextRefreshAt(): number | undefined {
    return this.#refreshTimer === undefined ? undefined : this.#nextAt;
  }

  /** Whether a round is running. */
  get running(): boolean {
    return this.#inFlight !== undefined;
  }

  /**
   * Starts keeping `target` fresh: arms the expiry timer and the next refresh. Call again whenever
   * the token, the clock offset or the registered handlers change.
   *
   * @param target - the current token's expiry and the clock offset
   * @param restart - a new token or session: interval refreshes count from now, failures reset
   */
  track(target: RefreshTarget, restart = false): void {
    this.#target = target;
    if (restart) {
      this.#refreshedAt = this.#clock.now();
      this.#failures = 0;
    }
    this.#arm();
  }

  /** Stops every timer; a round in flight ends without adopting its token. */
  stop(): void {
    this.#target = undefined;
    this.#clearTimers();
  }

  /** Runs a refresh round now unless one is running (single flight); resolves with its outcome. */
  refreshNow(): Promise<RefreshOutcome> {
    this.#inFlight ??= this.#round().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Schedules the next round after a backoff step (every handler failed, or none could answer). */
  retryLater(): void {
    if (!this.#target) return;
    this.#armRefresh(refreshRetryDelay(++this.#failures));
  }

  #arm(): void {
    this.#clearTimers();
    const target = this.#target;
    if (!target) return;
    const now = this.#clock.now();
    const expiry = localExpiry(target.expiresAt, target.clockOffsetMs);
    if (expiry !== null) {
      this.#expiryTimer = this.#clock.setTimeout(
        () => {
          this.#expiryTimer = undefined;
          this.#host.expired();
        },
        Math.max(0, expiry - now),
      );
    }
    const at = nextRefreshAt({
      expiresAt: target.expiresAt,
      clockOffsetMs: target.clockOffsetMs,
      interval: this.#host.interval(),
      now,
      since: this.#refreshedAt,
    });
    if (at !== undefined && this.#host.candidates().length > 0) this.#armRefresh(at - now);
  }

  #armRefresh(delay: number): void {
    this.#clock.clearTimeout(this.#refreshTimer);
    this.#nextAt = this.#clock.now() + delay;
    this.#refreshTimer = this.#clock.setTimeout(() => {
      this.#refreshTimer = undefined;
      void this.refreshNow(); // outcomes are handled inside the round
    }, delay);
  }

  async #round(): Promise<RefreshOutcome> {
    const startedAt = this.#clock.now();
    const outcome = await this.#tryCandidates();
    const durationMs = this.#clock.now() - startedAt;
    this.#record(outcome, durationMs);
    this.#host.reported?.(outcome, durationMs);
    if (outcome.type === 'refreshed') {
      this.#refreshes++;
      this.#failures = 0;
      this.#refreshedAt = this.#clock.now();
      this.#arm();
      const interval = this.#host.interval();
      // Never closer than the gap, against handlers that return short-lived tokens; an explicit
      // interval is the app's choice.
      if (interval === undefined && this.#refreshTimer !== undefined) this.#armRefresh(this.#gapDelay());
    } else if (outcome.type === 'failed' && this.#target) {
      this.retryLater();
    }
    return outcome;
  }

  #record(outcome: RefreshOutcome, durationMs: number): void {
    if (outcome.type === 'stopped') return;
    const record: RefreshRecord = {
      at: this.#clock.now(),
      outcome: outcome.type,
      durationMs,
      failovers: outcome.type === 'no-token' ? 0 : outcome.failovers,
    };
    if (outcome.type !== 'failed') record.tabId = outcome.tabId;
    keepLast(this.#history, record, HOST_HISTORY_ENTRIES);
  }

  /** Delay to the next refresh, at least {@link MIN_REFRESH_GAP_MS}. */
  #gapDelay(): number {
    const target = this.#target;
    const now = this.#clock.now();
    const at = target ? nextRefreshAt({ ...target, interval: undefined, now, since: this.#refreshedAt }) : undefined;
    return Math.max(MIN_REFRESH_GAP_MS, (at ?? now) - now);
  }

  /**
   * One round: asks the best tab; when it throws or its tab closes, asks the next at once; when it
   * stays silent past the failover delay (half the time left before `exp`), asks the next **while
   * still listening to it** — the first usable answer wins, so a slow handler that answers late is
   * not thrown away (which could let `exp` pass).
   */
  async #tryCandidates(): Promise<RefreshOutcome> {
    const queue = [...this.#host.candidates()];
    const running = new Map<number, Promise<CallResult>>();
    let failovers = 0;
    let calls = 0;
    const askNext = () => {
      const candidate = queue.shift();
      if (!candidate) return;
      const id = calls++;
      const call = candidate.call(this.#callDeadline()).then(
        (token): CallResult => ({ id, candidate, ok: true, token }),
        (): CallResult => ({ id, candidate, ok: false }),
      );
      running.set(id, call);
    };
    askNext();
    while (running.size > 0) {
      const result = await this.#firstResult(
        [...running.values()],
        queue.length > 0 ? this.#failoverDelay() : undefined,
      );
      if (!this.#target) return { type: 'stopped' };
      if (result === undefined) {
        failovers++; // silent so far: ask the next tab too, and keep listening
        askNext();
        continue;
      }
      running.delete(result.id);
      if (result.ok && result.token === undefined) return { type: 'no-token', tabId: result.candidate.tabId };
      if (result.ok && result.token !== undefined) {
        try {
          if ((await this.#host.adopt(result.token)) === 'stop') return { type: 'stopped' };
          return { type: 'refreshed', tabId: result.candidate.tabId, token: result.token, failovers };
        } catch {
          // An unusable token (expired, another user): treated like a failed call.
        }
      }
      failovers++; // threw, timed out, closed, or unusable: the next tab's handler gets its turn
      if (running.size === 0) askNext();
    }
    return this.#target ? { type: 'failed', failovers } : { type: 'stopped' };
  }

  /** The first of `calls` to settle, or `undefined` after `ms` (no limit when `ms` is undefined). */
  #firstResult(calls: Promise<CallResult>[], ms: number | undefined): Promise<CallResult | undefined> {
    if (ms === undefined) return Promise.race(calls);
    let timer: TimerHandle | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = this.#clock.setTimeout(() => resolve(undefined), ms)));
    return Promise.race([...calls, timeout]).finally(() => this.#clock.clearTimeout(timer));
  }

  /** Time left before the token's local expiry (`undefined`: it never expires). */
  #timeLeft(): number | undefined {
    const target = this.#target;
    const expiry = target ? localExpiry(target.expiresAt, target.clockOffsetMs) : null;
    return expiry === null ? undefined : expiry - this.#clock.now();
  }

  /**
   * Deadline of one handler call: {@link REFRESH_CALL_TIMEOUT_MS}, but never past the token's
   * expiry (and never below {@link MIN_REFRESH_CALL_TIMEOUT_MS}).
   */
  #callDeadline(): number {
    const left = this.#timeLeft();
    if (left === undefined) return REFRESH_CALL_TIMEOUT_MS;
    return Math.round(Math.min(REFRESH_CALL_TIMEOUT_MS, Math.max(MIN_REFRESH_CALL_TIMEOUT_MS, left)));
  }

  /**
   * How long a silent handler is given before the next tab is asked too: half the time left before
   * `exp` (at least {@link MIN_REFRESH_CALL_TIMEOUT_MS}, at most {@link REFRESH_CALL_TIMEOUT_MS}),
   * so a frozen tab leaves the next one time to refresh.
   */
  #failoverDelay(): number {
    const left = this.#timeLeft();
    if (left === undefined) return REFRESH_CALL_TIMEOUT_MS;
    return Math.round(Math.min(REFRESH_CALL_TIMEOUT_MS, Math.max(MIN_REFRESH_CALL_TIMEOUT_MS, left / 2)));
  }

  #clearTimers(): void {
    this.#clock.clearTimeout(this.#refreshTimer);
    this.#clock.clearTimeout(this.#expiryTimer);
    this.#refreshTimer = this.#expiryTimer = undefined;
  }
}

/** What a one-off refresh for a start with an expired token produced. */
export type StartRefresh =
  /** A usable token. */
  | { token: string; claims: TokenClaims }
  /** The handler threw or timed out: typically offline, its token endpoint unreachable. */
  | 'unreachable'
  /** No handler, no token, or an unusable one. */
  | undefined;

/**
 * `startSession` with an expired token and a handler: runs that tab's handler once, before any
 * session exists (the background refresher needs a running session).
 *
 * @param candidate - the starting tab's handler, or `undefined` when it passed none
 * @param serverNow - the server's clock, for the expiry check
 */
export async function refreshForStart(
  candidate: RefreshCandidate | undefined,
  serverNow: number,
): Promise<StartRefresh> {
  if (!candidate) return undefined;
  let token: string | undefined;
  try {
    token = await candidate.call(REFRESH_CALL_TIMEOUT_MS);
  } catch {
    return 'unreachable';
  }
  if (token === undefined) return undefined;
  try {
    const claims = decodeTokenClaims(token);
    return isExpired(claims.expiresAt, serverNow) ? undefined : { token, claims };
  } catch {
    return undefined;
  }
}

/** A line for the host's log about one refresh round. */
export function describeRefreshOutcome(outcome: RefreshOutcome, ms: number): string | undefined {
  const tab = (tabId: string) => `tab ${tabId.slice(0, 8)}`;
  switch (outcome.type) {
    case 'refreshed':
      return `refreshed by ${tab(outcome.tabId)} in ${ms} ms (${outcome.failovers} failovers)`;
    case 'failed':
      return `refresh failed in every tab (${outcome.failovers} tried); retrying`;
    case 'no-token':
      return `refreshHandler of ${tab(outcome.tabId)} returned no token`;
    case 'stopped':
      return undefined;
  }
}
