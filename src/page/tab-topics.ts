import type { Remote } from 'comlink';
import { createSessionError, isSessionError, SessionError } from '../errors/index.js';
import type { HostApi, PublishOutcome, SubscriptionRequest, TabMessage, TopicChange } from '../protocol/host-api.js';
import type { JsonValue } from '../protocol/messages.js';
import type { Clock } from '../shared/clock.js';
import { type ListenerErrorReporter, reportListenerError } from '../shared/emitter.js';
import { HOST_CALL_TIMEOUT_MS } from './host-rpc.js';

/** The calls into the host that topics need (a `HostRpc`). */
export interface TopicCalls {
  call<T>(fn: (api: Remote<HostApi>) => Promise<T>): Promise<T>;
}

/** The messages of a tab's events port that concern its topics. */
export type TopicMessage = Exclude<TabMessage, { type: 'event' }>;

interface Subscription {
  readonly topic: string;
  readonly onChange: (change: TopicChange) => void;
  readonly onError: ((error: SessionError) => void) | undefined;
  readonly onTrimmed: ((gap: TrimmedGap) => void) | undefined;
  /** Last seq delivered (or `since`): a new host resumes the subscription from here. */
  last: number | undefined;
}

/**
 * Changes a subscription will never receive because the server's retention dropped them: the
 * changes after `after` and before `first` (the subscription goes on with `first`).
 */
export interface TrimmedGap {
  after: number;
  first: number;
  /** A `SessionError` with code `HISTORY_TRIMMED` describing the gap. */
  error: SessionError;
}

interface PublishWait {
  resolve(value: { seq: number }): void;
  reject(error: unknown): void;
}

const noop = () => undefined;

/**
 * A tab's side of the data plane: its subscriptions (each with the last seq it delivered, so that a
 * new host resumes them without gaps or duplicates) and its publishes waiting for their outcome.
 * Internal to `SessionClient`.
 *
 * @example
 * ```ts
 * const topics = new TabTopics(tabId, rpc, systemClock);
 * const stop = topics.subscribe('room:1', (change) => render(change), { since: 41 });
 * const { seq } = await topics.publish('room:1', { text: 'hi' });
 * ```
 */
export class TabTopics {
  readonly #tabId: string;
  readonly #rpc: TopicCalls;
  readonly #clock: Clock;
  readonly #report: ListenerErrorReporter;
  readonly #subscriptions = new Map<string, Subscription>();
  readonly #publishes = new Map<string, PublishWait>();
  /** Set by {@link TabTopics.close}: called once no publish waits any more. */
  #drained: (() => void) | undefined;

  /**
   * @param tabId - the tab's id, as the host knows it
   * @param rpc - calls into the host
   * @param clock - times the publish waits of a closed tab
   * @param report - where an `onChange` that throws is reported
   */
  constructor(tabId: string, rpc: TopicCalls, clock: Clock, report: ListenerErrorReporter = reportListenerError) {
    this.#tabId = tabId;
    this.#rpc = rpc;
    this.#clock = clock;
    this.#report = report;
  }

  /**
   * Subscribes to `topic` (arguments already validated).
   *
   * @returns a function that unsubscribes
   */
  subscribe(
    topic: string,
    onChange: (change: TopicChange) => void,
    options: {
      since: number | undefined;
      onError: ((error: SessionError) => void) | undefined;
      onTrimmed?: ((gap: TrimmedGap) => void) | undefined;
    },
  ): () => void {
    const subId = crypto.randomUUID();
    const subscription: Subscription = {
      topic,
      onChange,
      onError: options.onError,
      onTrimmed: options.onTrimmed,
      last: options.since,
    };
    this.#subscriptions.set(subId, subscription);
    this.#rpc
      .call((api) => api.subscribe(this.#tabId, subscriptionRequest(subId, subscription)))
      .catch((error: unknown) => this.#fail(subId, error));
    return () => {
      if (!this.#subscriptions.delete(subId)) return;
      this.#rpc.call((api) => api.unsubscribe(this.#tabId, subId)).catch(noop); // the host drops it with the tab anyway
    };
  }

  /**
   * Publishes `data` on `topic` (arguments already validated).
   *
   * @returns `{ seq }` once the server stored it
   */
  async publish(topic: string, data: JsonValue): Promise<{ seq: number }> {
    const clientId = crypto.randomUUID();
    let wait!: PublishWait;
    const outcome = new Promise<{ seq: number }>((resolve, reject) => (wait = { resolve, reject }));
    // Rejected by close() while the publish call is still out, the caller hears the call's answer
    // instead: without this the wait's rejection would go unhandled.
    outcome.catch(noop);
    // Before the call: the outcome may arrive on the events port before the call's answer.
    this.#publishes.set(clientId, wait);
    try {
      await this.#rpc.call((api) => api.publish(this.#tabId, { clientId, topic, data }));
    } catch (error) {
      this.#take(clientId);
      throw error;
    }
    return outcome;
  }

  /**
   * Handles a message from the host about this tab's topics.
   *
   * @param message - changes, a failed subscription, or a publish outcome
   */
  onMessage(message: TopicMessage): void {
    switch (message.type) {
      case 'changes':
        return this.#deliver(message.subId, message.changes);
      case 'subscription-error':
        return this.#fail(message.subId, createSessionError(message.code, message.message));
      case 'publish-outcome':
        return this.#settle(message.clientId, message.outcome);
      case 'trimmed':
        return this.#trimmed(message.subId, message.after, message.first);
    }
  }

  /** The server no longer has the changes after `after` and before `first`: tell the subscriber, go on. */
  #trimmed(subId: string, after: number, first: number): void {
    const subscription = this.#subscriptions.get(subId);
    if (!subscription) return;
    subscription.last = first - 1;
    const error = new SessionError(
      'HISTORY_TRIMMED',
      `the server no longer retains changes ${after + 1}–${first - 1} of "${subscription.topic}": continuing with ${first}`,
    );
    if (!subscription.onTrimmed) {
      console.warn(`[shared-session] ${error.message}`);
      return;
    }
    try {
      subscription.onTrimmed({ after, first, error });
    } catch (thrown) {
      this.#report(thrown);
    }
  }

  /**
   * Brings this tab's subscriptions to a new host, each resuming after the last seq it delivered.
   *
   * @param api - the new host
   */
  replay(api: Remote<HostApi>): void {
    for (const [subId, subscription] of this.#subscriptions) {
      api
        .subscribe(this.#tabId, subscriptionRequest(subId, subscription))
        .catch((error: unknown) => this.#fail(subId, error));
    }
  }

  /**
   * Stops delivering changes and waits for the outcomes of publishes already made, for at most
   * {@link HOST_CALL_TIMEOUT_MS}; those still unknown then reject with `CLIENT_CLOSED` (their
   * messages stay in the host's outbox and are stored once).
   *
   * @returns resolves once no publish waits any more
   */
  close(): Promise<void> {
    this.#subscriptions.clear();
    if (this.#publishes.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = this.#clock.setTimeout(() => {
        const late = new SessionError(
          'CLIENT_CLOSED',
          `this SessionClient was closed and the publish outcome did not arrive within ${HOST_CALL_TIMEOUT_MS} ms ` +
            '(the message stays in the outbox and is stored once)',
        );
        for (const clientId of [...this.#publishes.keys()]) this.#take(clientId)?.reject(late);
      }, HOST_CALL_TIMEOUT_MS);
      this.#drained = () => {
        this.#clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  #deliver(subId: string, changes: TopicChange[]): void {
    const subscription = this.#subscriptions.get(subId);
    if (!subscription) return;
    for (const change of changes) {
      if (this.#subscriptions.get(subId) !== subscription) return; // unsubscribed by a callback
      subscription.last = change.seq;
      try {
        subscription.onChange(change);
      } catch (error) {
        this.#report(error);
      }
    }
  }

  #fail(subId: string, error: unknown): void {
    const subscription = this.#subscriptions.get(subId);
    if (!subscription) return;
    this.#subscriptions.delete(subId);
    const typed = isSessionError(error) ? error : new SessionError('INTERNAL', String(error), { cause: error });
    if (!subscription.onError) {
      console.warn(`[shared-session] subscription to "${subscription.topic}" failed: ${typed.code} ${typed.message}`);
      return;
    }
    try {
      subscription.onError(typed);
    } catch (thrown) {
      this.#report(thrown);
    }
  }

  #settle(clientId: string, outcome: PublishOutcome): void {
    const wait = this.#take(clientId);
    if (!wait) return;
    if (outcome.ok) wait.resolve({ seq: outcome.seq });
    else wait.reject(createSessionError(outcome.code, outcome.message));
  }

  /** Removes the wait for `clientId`; the last one of a closed tab ends {@link TabTopics.close}. */
  #take(clientId: string): PublishWait | undefined {
    const wait = this.#publishes.get(clientId);
    this.#publishes.delete(clientId);
    if (this.#drained && this.#publishes.size === 0) {
      this.#drained();
      this.#drained = undefined;
    }
    return wait;
  }
}

function subscriptionRequest(subId: string, subscription: Subscription): SubscriptionRequest {
  const request: SubscriptionRequest = { subId, topic: subscription.topic };
  if (subscription.last !== undefined) request.since = subscription.last;
  return request;
}
