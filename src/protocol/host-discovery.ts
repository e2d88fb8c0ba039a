import type { HostKind } from './host-api.js';

/**
 * Names and messages by which tabs find their host and hosts find each other (spec §4): the
 * leader election lock, the socket-owner lock, and the BroadcastChannel on which a leader host
 * answers tabs and every host announces itself (for version skew).
 */

/** Web Lock held by the leader tab for its whole life; the next tab in line takes over. */
export const LEADER_LOCK = 'shared-session:leader';

/** Web Lock held by whichever host owns the WebSocket: one socket per browser across host versions. */
export const SOCKET_OWNER_LOCK = 'shared-session:socket-owner';

/** Web Lock a SharedWorker host holds for its life: tabs waiting for it learn of the worker's end at once. */
export function hostAliveLockName(hostId: string): string {
  return `shared-session:host-alive:${hostId}`;
}

/** BroadcastChannel for host discovery and announcements. */
export const HOSTS_CHANNEL = 'shared-session:hosts';

/** Name of the BroadcastChannel that links one tab to one leader host. */
export function linkChannelName(hostId: string, tabId: string): string {
  return `shared-session:link:${hostId}:${tabId}`;
}

/** Messages on {@link HOSTS_CHANNEL}. */
export type HostsMessage =
  /** A tab looks for the leader host. */
  | { type: 'hello'; tabId: string }
  /**
   * The leader host answers: talk to me on `linkChannelName(hostId, tabId)`. `startedAt` (the
   * host's start, epoch ms) orders leaders: a tab never follows a host older than its current one
   * (a frozen leader that wakes after another took over answers hellos it queued while frozen).
   */
  | { type: 'welcome'; tabId: string; hostId: string; startedAt?: number }
  /** A host started: tabs of a leader re-attach to it; older hosts learn that a newer build runs. */
  | { type: 'host-ready'; hostId: string; kind: HostKind; buildId: string; protocol: number; startedAt: number };
