import { SessionError } from '../errors/index.js';
import type { TopicChange as ClientTopicChange, JsonValue, SessionClient, SubscribeOptions } from '../page/index.js';

/**
 * One change of a topic whose `data` the app knows as `T`. The library does not check `data`
 * against `T`: naming `T` is the app's claim about what its publishers send.
 *
 * @example
 * ```ts
 * import type { TopicChange } from 'shared-session/react';
 * type Message = { text: string; author: string };
 * const render = (change: TopicChange<Message>) => `${change.seq}: ${change.data.text}`;
 * ```
 */
export interface TopicChange<T = JsonValue> extends Omit<ClientTopicChange, 'data'> {
  data: T;
}

/** Options of `client.history`. */
export interface HistoryOptions {
  /** Only changes with `seq < before`; default: up to the newest. */
  before?: number;
  /** How many changes at most (default 50; the server caps it). */
  limit?: number;
}

/** What `client.history` answers: changes oldest first (newest last). */
export interface HistoryPage {
  changes: ClientTopicChange[];
  /** Older changes exist before `changes[0]`. */
  hasMore: boolean;
}

/**
 * The slice of `SessionClient` the bindings use: its events, `subscribe` and `history`. A real
 * `SessionClient` is one; unit tests pass a small in-memory client.
 */
export type BindableClient = Pick<
  SessionClient,
  'connectionStatus' | 'onConnectionStatusChange' | 'onSessionChange' | 'onSessionError' | 'subscribe'
> & {
  /** Older changes of `topic`, newest last; see `SessionClient.history`. */
  history(topic: string, options?: HistoryOptions): Promise<HistoryPage>;
};

/** `SubscribeOptions` with only the fields that are set (for `exactOptionalPropertyTypes`). */
export function subscribeOptions(since: number | undefined, onError: (error: SessionError) => void): SubscribeOptions {
  return since === undefined ? { onError } : { since, onError };
}

/** The change as the app typed it: `T` is the app's claim about `data` (see {@link TopicChange}). */
export function asTyped<T>(changes: readonly ClientTopicChange[]): TopicChange<T>[] {
  return changes as unknown as TopicChange<T>[];
}

/** A failure of a client call as a {@link SessionError} (other throwables become `INTERNAL`). */
export function toSessionError(error: unknown): SessionError {
  return error instanceof SessionError ? error : new SessionError('INTERNAL', String(error), { cause: error });
}
