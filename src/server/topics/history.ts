import type { HistoryChange, HistoryMessage, HistoryRequestMessage } from '../../protocol/messages.js';
import { MAX_HISTORY_BYTES } from '../constants.js';
import type { StoredChange, TopicStore } from '../store/topic-store.js';

/** The limits a `history` answer keeps to. */
export interface HistoryLimits {
  /** `limit` when the request gives none. */
  historyLimit: number;
  /** Largest `limit` served. */
  maxHistoryLimit: number;
}

/**
 * Reads one page of history for a `history` request (issue 14): the newest `limit` retained
 * changes with seq < `before` (default: the newest), at most {@link MAX_HISTORY_BYTES} of them
 * (the newest that fit, at least one), oldest first; `hasMore` when the topic retains older ones.
 * The caller checked the read permission.
 *
 * @param store - the topic store
 * @param request - the parsed request
 * @param limits - default and largest `limit`
 * @returns the answer to send
 * @throws the store's error
 */
export async function readHistory(
  store: TopicStore,
  request: HistoryRequestMessage,
  limits: HistoryLimits,
): Promise<HistoryMessage> {
  const { id, topic } = request;
  const limit = Math.min(request.limit ?? limits.historyLimit, limits.maxHistoryLimit);
  const before = request.before ?? Number.MAX_SAFE_INTEGER;
  // One more than asked tells whether older changes exist, without a second read.
  const page = await store.readBefore(topic, before, limit + 1, { maxBytes: MAX_HISTORY_BYTES });
  let hasMore = page.length > limit;
  const changes = hasMore ? page.slice(page.length - limit) : page;
  const oldest = changes[0];
  // A page cut short by the byte limit: ask the store whether anything older is retained.
  if (!hasMore && oldest !== undefined && changes.length < limit && oldest.seq > 1) {
    hasMore = (await store.readBefore(topic, oldest.seq, 1)).length > 0;
  }
  return { type: 'history', id, topic, changes: changes.map(historyChange), hasMore };
}

function historyChange(change: StoredChange): HistoryChange {
  const out: HistoryChange = { seq: change.seq, data: change.data, publishedAt: change.publishedAt };
  if (change.clientId !== undefined) out.clientId = change.clientId;
  return out;
}
