import { SessionError } from '../errors/index.js';
import {
  HISTORY_DEFAULT_LIMIT,
  HISTORY_MAX_LIMIT,
  type HistoryPage,
  type HistoryRequest,
  type TopicChange,
} from '../protocol/host-api.js';
import type { ServerMessage } from '../protocol/messages.js';
import { validateTopicName } from '../protocol/topic-name.js';
import type { Clock } from '../shared/clock.js';
import type { RequestBody } from './server-connection.js';

/** What a history page is cut from: a topic's cached window as the host holds it. */
export interface CachedWindow {
  /** The newest changes, ascending and contiguous, ending at `cursor` when not empty. */
  window: readonly TopicChange[];
  /** Highest seq received without a gap. */
  cursor: number;
  /** Subscribed at the server on the current socket (so the window is current). */
  live: boolean;
}

/**
 * A history request with its defaults, or `INVALID_ARGUMENT`.
 *
 * @throws {@link SessionError} `INVALID_ARGUMENT`
 */
export function checkHistoryRequest(request: HistoryRequest): {
  topic: string;
  before: number | undefined;
  limit: number;
} {
  const problem = validateTopicName(request.topic);
  if (problem !== undefined) throw new SessionError('INVALID_ARGUMENT', problem);
  const { before } = request;
  if (before !== undefined && !(Number.isSafeInteger(before) && before >= 1)) {
    throw new SessionError('INVALID_ARGUMENT', '"before" must be a positive integer');
  }
  const limit = request.limit ?? HISTORY_DEFAULT_LIMIT;
  if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= HISTORY_MAX_LIMIT)) {
    throw new SessionError('INVALID_ARGUMENT', `"limit" must be an integer from 1 to ${HISTORY_MAX_LIMIT}`);
  }
  return { topic: request.topic, before, limit };
}

/**
 * The history page from the host's window when it holds the whole range: changes with seq <
 * `before` (default: the newest, only while the topic is live at the server, so the cache is
 * current), `limit` of them, down to seq 1 at the oldest.
 */
export function cachedHistory(topic: CachedWindow, before: number | undefined, limit: number): HistoryPage | undefined {
  const window = topic.window;
  const first = window[0];
  if (!first) return undefined;
  if (before === undefined && !topic.live) return undefined;
  const end = Math.min(before ?? topic.cursor + 1, topic.cursor + 1); // exclusive
  if (before !== undefined && before > topic.cursor + 1) return undefined; // newer than the cache knows
  const start = Math.max(1, end - limit);
  if (start < first.seq) return undefined; // older than the cache holds
  const changes = window.slice(start - first.seq, end - first.seq);
  return { changes, hasMore: start > 1 };
}

/** A history entry from the server as a tab receives it. */
function toTopicChange(
  topic: string,
  change: { seq: number; data: TopicChange['data']; publishedAt: number; clientId?: string },
): TopicChange {
  const result: TopicChange = { topic, seq: change.seq, data: change.data, publishedAt: change.publishedAt };
  if (typeof change.clientId === 'string') result.clientId = change.clientId;
  return result;
}

/**
 * Asks the server for a history page over the session's socket.
 *
 * @param link - the authenticated connection
 * @throws the server's typed refusal (`FORBIDDEN`, `INVALID_ARGUMENT`), `DISCONNECTED`, `TIMEOUT`
 */
export async function fetchHistory(
  link: { request(body: RequestBody): Promise<ServerMessage> },
  topic: string,
  before: number | undefined,
  limit: number,
): Promise<HistoryPage> {
  const answer = await link.request({ type: 'history', topic, limit, ...(before !== undefined && { before }) });
  if (answer.type !== 'history') throw new SessionError('INTERNAL', `the server answered history with ${answer.type}`);
  const changes: TopicChange[] = [];
  for (const change of answer.changes) {
    if (!Number.isSafeInteger(change.seq) || typeof change.publishedAt !== 'number') continue;
    changes.push(toTopicChange(topic, change));
  }
  return { changes, hasMore: answer.hasMore };
}

/**
 * A page of a topic's history (spec §3): from the cached window when it holds the whole range,
 * else from the server over `link`.
 *
 * @param request - topic, `before`, `limit`
 * @param cached - the topic's cached window, if the host holds the topic
 * @param link - the authenticated connection (waits for one while connecting)
 * @throws {@link SessionError} `INVALID_ARGUMENT`, `DISCONNECTED` (no socket in time, nothing cached),
 *   or the server's refusal (`FORBIDDEN`)
 */
export async function topicHistory(
  request: HistoryRequest,
  cached: CachedWindow | undefined,
  link: () => Promise<{ request(body: RequestBody): Promise<ServerMessage> }>,
): Promise<HistoryPage> {
  const { topic, before, limit } = checkHistoryRequest(request);
  const page = cached && cachedHistory(cached, before, limit);
  if (page) return page;
  return fetchHistory(await link(), topic, before, limit);
}

/** A history request made while connecting waits this long for the socket before `DISCONNECTED`. */
export const HISTORY_CONNECT_WAIT_MS = 10_000;

/** Requests waiting for the next authenticated socket (history made while the session connects). */
export class NextLink<L> {
  readonly #clock: Clock;
  readonly #waiting = new Set<(link: L) => void>();

  /** @param clock - times the wait */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Resolves with the next link, or rejects `DISCONNECTED` after {@link HISTORY_CONNECT_WAIT_MS}. */
  wait(): Promise<L> {
    return new Promise((resolve, reject) => {
      const waiter = (link: L) => {
        this.#clock.clearTimeout(timer);
        resolve(link);
      };
      const timer = this.#clock.setTimeout(() => {
        this.#waiting.delete(waiter);
        reject(new SessionError('DISCONNECTED', 'not connected to the server, and the host has no cached history'));
      }, HISTORY_CONNECT_WAIT_MS);
      this.#waiting.add(waiter);
    });
  }

  /** A socket was authenticated: every waiting request goes out on it. */
  open(link: L): void {
    for (const waiter of this.#waiting) waiter(link);
    this.#waiting.clear();
  }
}
