import { HostUnavailableError } from '../errors/index.js';
import type { Clock, TimerHandle } from '../shared/clock.js';

/** Deadline for any call from the page into its host. */
export const HOST_CALL_TIMEOUT_MS = 15_000;

/** One call into the host, from the moment the tab made it until it settles. */
interface PendingCall<Api> {
  readonly startedAt: number;
  readonly fn: (api: Api) => Promise<unknown>;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** The host it was last sent to (`undefined`: not sent yet). */
  sentTo: Api | undefined;
  /** Bumped on every send, so that a late answer of an earlier host is ignored. */
  attempt: number;
}

/** Where calls go: nowhere yet (held), a host, or nowhere because attaching failed. */
type Target<Api> =
  | { readonly state: 'held' }
  | { readonly state: 'open'; readonly api: Api }
  | { readonly state: 'failed'; readonly error: unknown };

/**
 * The tab's calls into its host: each call is sent to the current host, held while the tab
 * (re)attaches, and sent again — in the order the tab made them — when a new host takes over
 * (every host call is idempotent for a tab: a publish keeps its client id). Deadlines are kept by
 * one timer over all pending calls rather than a timer per call: the round trip is the hot path
 * (bench/), and the oldest pending call is always the first one, so the timer is set for its deadline.
 * Internal to `SessionClient`.
 *
 * @example
 * ```ts
 * const rpc = new HostRpc<Remote<HostApi>>(systemClock, (error) => supervisor.reportUnresponsive(error));
 * rpc.open(host.api);
 * const session = await rpc.call((api) => api.getSession());
 * ```
 */
export class HostRpc<Api> {
  readonly #clock: Clock;
  readonly #onTimeout: (error: HostUnavailableError) => void;
  /** In the order the calls were made (Set keeps insertion order), so the first is the oldest. */
  readonly #pending = new Set<PendingCall<Api>>();
  #target: Target<Api> = { state: 'held' };
  #sweepTimer: TimerHandle | undefined;
  #refusal: unknown;
  #idle: (() => void)[] = [];

  /**
   * @param clock - times the deadlines
   * @param onTimeout - called once per sweep that rejected calls past {@link HOST_CALL_TIMEOUT_MS}
   */
  constructor(clock: Clock, onTimeout: (error: HostUnavailableError) => void) {
    this.#clock = clock;
    this.#onTimeout = onTimeout;
  }

  /** Calls made and not settled yet. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Calls the host: at once when one is attached, else once one is. Rejects with what the host
   * threw, with `HOST_UNAVAILABLE` after {@link HOST_CALL_TIMEOUT_MS}, or at once after
   * {@link HostRpc.fail} or {@link HostRpc.close}.
   *
   * @param fn - the call, given the current host's API
   */
  call<T>(fn: (api: Api) => Promise<T>): Promise<T> {
    if (this.#refusal !== undefined) return Promise.reject(this.#refusal);
    const target = this.#target;
    if (target.state === 'failed') return Promise.reject(target.error);
    return new Promise<T>((resolve, reject) => {
      const call: PendingCall<Api> = {
        startedAt: this.#clock.now(),
        fn,
        resolve: resolve as (value: unknown) => void,
        reject,
        sentTo: undefined,
        attempt: 0,
      };
      this.#pending.add(call);
      // No timer means nothing else is pending: this call's deadline is the next one.
      this.#sweepTimer ??= this.#clock.setTimeout(() => this.#sweep(), HOST_CALL_TIMEOUT_MS);
      if (target.state === 'open') this.#send(call, target.api);
    });
  }

  /** Resolves once a host is attached (at once if one is); rejects like {@link HostRpc.call}. */
  ready(): Promise<void> {
    return this.#target.state === 'open' && this.#refusal === undefined
      ? Promise.resolve()
      : this.call(() => Promise.resolve());
  }

  /** Holds new calls until {@link HostRpc.open}: the tab is (re)attaching. Calls in flight stay pending. */
  hold(): void {
    this.#target = { state: 'held' };
  }

  /**
   * Sends calls to `api` from now on, and every pending call not sent to it yet — held ones and
   * those in flight to an earlier host — in the order they were made.
   *
   * @param api - the attached host
   */
  open(api: Api): void {
    this.#target = { state: 'open', api };
    for (const call of this.#pending) if (call.sentTo !== api) this.#send(call, api);
  }

  /**
   * Attaching failed: rejects every pending call with `error`, and later calls at once, until
   * {@link HostRpc.open}.
   *
   * @param error - a typed error saying why
   */
  fail(error: unknown): void {
    this.#target = { state: 'failed', error };
    this.rejectPending(error);
  }

  /**
   * Rejects every pending call with `error` (the host failed to start).
   *
   * @param error - a typed error saying why
   */
  rejectPending(error: unknown): void {
    for (const call of [...this.#pending]) this.#settle(call, call.reject, error);
  }

  /**
   * Refuses calls from now on with `refusal`; calls already made still settle with the host's
   * answer (or their deadline).
   *
   * @param refusal - what later calls reject with
   * @returns resolves once no call is pending
   */
  close(refusal: unknown): Promise<void> {
    this.#refusal ??= refusal;
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #send(call: PendingCall<Api>, api: Api): void {
    const attempt = ++call.attempt;
    call.sentTo = api;
    let sent: Promise<unknown>;
    try {
      sent = call.fn(api);
    } catch (error) {
      sent = Promise.reject(error);
    }
    sent.then(
      (value) => {
        if (attempt === call.attempt) this.#settle(call, call.resolve, value);
      },
      (error: unknown) => {
        if (attempt === call.attempt) this.#settle(call, call.reject, error);
      },
    );
  }

  /** Settles `call` once (a call re-sent or rejected by the sweep may still hear from a host). */
  #settle(call: PendingCall<Api>, settle: (value: unknown) => void, value: unknown): void {
    if (!this.#pending.delete(call)) return;
    settle(value);
    if (this.#pending.size === 0 && this.#idle.length > 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Rejects the calls past their deadline, reports the host once, and sets the timer for the next deadline. */
  #sweep(): void {
    this.#sweepTimer = undefined;
    const now = this.#clock.now();
    let expired = false;
    for (const call of this.#pending) {
      const left = call.startedAt + HOST_CALL_TIMEOUT_MS - now;
      if (left > 0) {
        this.#sweepTimer = this.#clock.setTimeout(() => this.#sweep(), left);
        break;
      }
      expired = true;
      this.#settle(
        call,
        call.reject,
        new HostUnavailableError(`the session host did not answer within ${HOST_CALL_TIMEOUT_MS} ms`),
      );
    }
    if (expired) {
      this.#onTimeout(new HostUnavailableError(`the session host did not answer within ${HOST_CALL_TIMEOUT_MS} ms`));
    }
  }
}
