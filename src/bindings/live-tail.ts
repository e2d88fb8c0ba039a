import type { SessionError } from '../errors/index.js';
import type { TopicChange } from '../page/index.js';
import { type BindableClient, subscribeOptions, toSessionError } from './client.js';

/** What a {@link LiveTail} reports. */
export interface LiveTailEvents {
  /** New changes, in order, each after the last one reported (batched per microtask). */
  changes(changes: TopicChange[]): void;
  /** The subscription was refused or failed; it is gone until the next `resume`. */
  error(error: SessionError): void;
}

/**
 * The live end of a topic: a client subscription from a cursor that can pause and resume. Resuming
 * subscribes after the last change it delivered, so a pause (a component unmounting, StrictMode's
 * double mount) loses nothing and repeats nothing. Changes that arrive in one host message are
 * handed on as one batch: a store builds one snapshot for them, not one per change.
 */
export class LiveTail {
  readonly #client: BindableClient;
  readonly #topic: string;
  readonly #events: LiveTailEvents;
  /** Seq of the last change received (or the `since` to start after); undefined = from the start. */
  #cursor: number | undefined;
  #unsubscribe: (() => void) | undefined;
  /** Bumped on every subscribe and pause: callbacks of an older subscription are ignored. */
  #generation = 0;
  /** `resume` was called more recently than `pause`. */
  #wanted = false;
  /** A subscribe is queued for the end of the current task step. */
  #queued = false;
  #batch: TopicChange[] = [];

  /**
   * @param client - the session client
   * @param topic - topic name
   * @param since - deliver changes after this seq (undefined: from the start of the retained log)
   * @param events - where changes and errors go
   */
  constructor(client: BindableClient, topic: string, since: number | undefined, events: LiveTailEvents) {
    this.#client = client;
    this.#topic = topic;
    this.#cursor = since;
    this.#events = events;
  }

  /** Moves the cursor (before the first `resume`): deliver changes after `seq`. */
  startAfter(seq: number): void {
    if (this.#cursor === undefined || seq > this.#cursor) this.#cursor = seq;
  }

  /**
   * Subscribes from the cursor (in a microtask), unless already subscribed. A `pause` before then
   * cancels it: StrictMode's mount, unmount, mount makes one client subscription, not a subscribe,
   * an unsubscribe and a subscribe racing each other to the host.
   */
  resume(): void {
    this.#wanted = true;
    if (this.#unsubscribe || this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      this.#queued = false;
      if (this.#wanted && !this.#unsubscribe) this.#open();
    });
  }

  #open(): void {
    const generation = ++this.#generation;
    const onError = (error: SessionError) => {
      if (generation !== this.#generation) return;
      this.#unsubscribe = undefined;
      this.#events.error(error);
    };
    try {
      this.#unsubscribe = this.#client.subscribe(
        this.#topic,
        (change) => {
          if (generation === this.#generation) this.#receive(change);
        },
        subscribeOptions(this.#cursor, onError),
      );
    } catch (error) {
      onError(toSessionError(error));
    }
  }

  /** Unsubscribes; `resume` continues after the last change received. */
  pause(): void {
    this.#wanted = false;
    this.#generation++;
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    unsubscribe?.();
  }

  #receive(change: TopicChange): void {
    // A resumed subscription may overlap what was already received; never report a change twice.
    if (this.#cursor !== undefined && change.seq <= this.#cursor) return;
    this.#cursor = change.seq;
    this.#batch.push(change);
    if (this.#batch.length > 1) return;
    queueMicrotask(() => {
      const batch = this.#batch;
      this.#batch = [];
      this.#events.changes(batch);
    });
  }
}
