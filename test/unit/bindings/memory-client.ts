import { ForbiddenError, type SessionError } from '../../../src/errors/index.js';
import type {
  ConnectionStatus,
  JsonValue,
  SessionErrorType,
  SessionInfo,
  SubscribeOptions,
  TopicChange,
} from '../../../src/page/index.js';
import type { BindableClient, HistoryOptions, HistoryPage } from '../../../src/bindings/index.js';

interface Subscriber {
  topic: string;
  onChange(change: TopicChange): void;
  onError: ((error: SessionError) => void) | undefined;
  since: number | undefined;
}

/** A `history` call the test lets through (`release`) or fails (`fail`) when it chooses. */
export interface HeldHistory {
  topic: string;
  options: HistoryOptions;
  release(): void;
  fail(error: SessionError): void;
}

/**
 * An in-memory `BindableClient`: topics are arrays, subscriptions get their backlog and live
 * changes in one batch per `publish` (like the host's messages, asynchronously), `history` answers
 * from the arrays. Counters show how many client listeners and subscriptions are open.
 */
export class MemoryClient implements BindableClient {
  connectionStatus: ConnectionStatus = 'UNINITIALIZED';
  readonly statusListeners = new Set<(status: ConnectionStatus) => void>();
  readonly sessionListeners = new Set<(session: SessionInfo | undefined) => void>();
  readonly errorListeners = new Set<(type: SessionErrorType) => void>();
  readonly subscribers = new Set<Subscriber>();
  readonly subscribeCalls: { topic: string; since: number | undefined }[] = [];
  readonly historyCalls: { topic: string; options: HistoryOptions }[] = [];
  /** With `holdHistory`, `history` calls wait here until the test releases them. */
  readonly heldHistory: HeldHistory[] = [];
  holdHistory = false;
  readonly forbidden = new Set<string>();
  #session: SessionInfo | undefined;
  readonly #topics = new Map<string, TopicChange[]>();

  setStatus(status: ConnectionStatus): void {
    if (status === this.connectionStatus) return;
    this.connectionStatus = status;
    for (const listener of [...this.statusListeners]) listener(status);
  }

  setSession(session: SessionInfo | undefined): void {
    this.#session = session;
    for (const listener of [...this.sessionListeners]) listener(session);
  }

  failSession(type: SessionErrorType): void {
    for (const listener of [...this.errorListeners]) listener(type);
  }

  /** Appends changes to `topic` and delivers them to its subscribers in one batch (a microtask later). */
  publish(topic: string, ...data: JsonValue[]): TopicChange[] {
    const log = this.#log(topic);
    const added = data.map((d, i) => ({ topic, seq: log.length + i + 1, data: d, publishedAt: 1_000 + i }));
    log.push(...added);
    const targets = [...this.subscribers].filter((s) => s.topic === topic);
    queueMicrotask(() => {
      for (const subscriber of targets) for (const change of added) this.#deliver(subscriber, change);
    });
    return added;
  }

  onConnectionStatusChange(callback: (status: ConnectionStatus) => void, runImmediately = false): () => void {
    this.statusListeners.add(callback);
    if (runImmediately) callback(this.connectionStatus);
    return () => this.statusListeners.delete(callback);
  }

  onSessionChange(callback: (session: SessionInfo | undefined) => void, runImmediately = false): () => void {
    this.sessionListeners.add(callback);
    if (runImmediately) callback(this.#session);
    return () => this.sessionListeners.delete(callback);
  }

  onSessionError(callback: (type: SessionErrorType) => void): () => void {
    this.errorListeners.add(callback);
    return () => this.errorListeners.delete(callback);
  }

  subscribe(topic: string, onChange: (change: TopicChange) => void, options: SubscribeOptions = {}): () => void {
    const subscriber: Subscriber = { topic, onChange, onError: options.onError, since: options.since };
    this.subscribeCalls.push({ topic, since: options.since });
    this.subscribers.add(subscriber);
    queueMicrotask(() => {
      if (!this.subscribers.has(subscriber)) return;
      if (this.forbidden.has(topic)) {
        this.subscribers.delete(subscriber);
        subscriber.onError?.(new ForbiddenError(`may not read "${topic}"`));
        return;
      }
      for (const change of this.#log(topic)) this.#deliver(subscriber, change);
    });
    return () => this.subscribers.delete(subscriber);
  }

  history(topic: string, options: HistoryOptions = {}): Promise<HistoryPage> {
    this.historyCalls.push({ topic, options });
    const answer = (): HistoryPage => {
      if (this.forbidden.has(topic)) throw new ForbiddenError(`may not read "${topic}"`);
      const log = this.#log(topic);
      const end = Math.min(options.before === undefined ? log.length : options.before - 1, log.length);
      const start = Math.max(0, end - (options.limit ?? 50));
      return { changes: log.slice(start, end), hasMore: start > 0 };
    };
    if (!this.holdHistory) return Promise.resolve().then(answer);
    return new Promise((resolve, reject) =>
      this.heldHistory.push({
        topic,
        options,
        release: () => {
          try {
            resolve(answer());
          } catch (error) {
            reject(error);
          }
        },
        fail: reject,
      }),
    );
  }

  /** Subscriptions open on `topic`. */
  openSubscriptions(topic: string): number {
    return [...this.subscribers].filter((s) => s.topic === topic).length;
  }

  #log(topic: string): TopicChange[] {
    let log = this.#topics.get(topic);
    if (!log) this.#topics.set(topic, (log = []));
    return log;
  }

  #deliver(subscriber: Subscriber, change: TopicChange): void {
    if (!this.subscribers.has(subscriber)) return;
    if (subscriber.since !== undefined && change.seq <= subscriber.since) return;
    subscriber.since = change.seq;
    subscriber.onChange(change);
  }
}

/** A session as the host reports it. */
export function sessionInfo(fields: Partial<SessionInfo> = {}): SessionInfo {
  return { id: 's1', userId: 'alice', roles: ['user'], expiresAt: 10_000, tabs: 1, ...fields };
}

/** Lets queued microtasks (deliveries, batches) and resolved promises run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** A client whose every property access throws: proof that server rendering never touches it. */
export function untouchableClient(): BindableClient {
  return new Proxy({} as BindableClient, {
    get(_target, property) {
      throw new Error(`the client was touched: ${String(property)}`);
    },
  });
}
