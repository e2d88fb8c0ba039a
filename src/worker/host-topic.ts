import type { TopicChange } from '../protocol/host-api.js';

/** One tab's subscription to a topic. */
export interface TabSubscription {
  tabId: string;
  subId: string;
  /** Last seq delivered to the tab. */
  delivered: number;
}

/** One topic as the host holds it for every tab that subscribed. */
export interface HostTopic {
  name: string;
  /** Highest seq received without a gap. */
  cursor: number;
  /** Newest changes, ascending and contiguous, ending at `cursor` when not empty. */
  window: TopicChange[];
  subs: Map<string, TabSubscription>;
  /** `after` of the subscribe in flight or live on the current socket; undefined = none. */
  requestedAfter: number | undefined;
  /** Changes not yet written to IndexedDB. */
  unsaved: TopicChange[];
  /** Position of a replay of older changes the server is streaming (a backfill), if any. */
  replayAt: number | undefined;
  /** A subscribe request is waiting for its answer. */
  awaitingAnswer: boolean;
  /** The user whose cache was loaded into this topic. */
  loadedFor: string | undefined;
  loaded: Promise<void>;
}

/** The key of a tab's subscription within a topic. */
export const subKey = (tabId: string, subId: string) => `${tabId}\u0000${subId}`;

/** A topic nobody received anything of yet. */
export const newTopic = (name: string): HostTopic => ({
  name,
  cursor: 0,
  window: [],
  subs: new Map(),
  requestedAfter: undefined,
  unsaved: [],
  replayAt: undefined,
  awaitingAnswer: false,
  loadedFor: undefined,
  loaded: Promise.resolve(),
});

/**
 * The server trimmed everything before `first`: moves the topic past the gap (its cached window
 * then starts over) and every tab subscription that had not reached it, reporting each such
 * subscription's position once. Returns whether the cache must be reset.
 *
 * @param topic - the topic, updated in place
 * @param first - the first change the server still retains
 * @param report - told of each subscription that skips changes, with its position before
 */
export function skipTrimmed(
  topic: HostTopic,
  first: number,
  report: (sub: TabSubscription, after: number) => void,
): boolean {
  const skipTo = first - 1;
  const resetCache = topic.cursor < skipTo;
  if (resetCache) {
    topic.cursor = skipTo;
    topic.window = [];
    topic.unsaved = [];
    topic.replayAt = undefined;
  }
  for (const sub of topic.subs.values()) {
    if (sub.delivered >= skipTo) continue;
    report(sub, sub.delivered);
    sub.delivered = skipTo;
  }
  return resetCache;
}
