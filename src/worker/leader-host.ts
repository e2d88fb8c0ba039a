import * as Comlink from 'comlink';
import { linkChannelName, type HostsMessage } from '../protocol/host-discovery.js';
import { createBroadcastEndpoint } from '../shared/broadcast-endpoint.js';
import type { SessionHost } from './session-host.js';

/** How long a departed tab's link stays open after it left (its last answer is on its way). */
export const LINK_CLOSE_DELAY_MS = 500;

/**
 * Serves `host` to every tab over BroadcastChannel: a tab says `hello` on the hosts channel, the
 * host answers `welcome` and exposes itself on a link channel private to that tab, through the
 * port-tunnelling endpoint (so comlink callback proxies work as over a SharedWorker port). Runs in
 * the leader tab's dedicated worker.
 *
 * @param host - the session host
 * @param hostId - this host's id (part of every link channel name, so a dead host's links go quiet)
 * @param hosts - the hosts channel (from `announceHost`)
 */
export function serveOverBroadcast(host: SessionHost, hostId: string, hosts: BroadcastChannel): void {
  const links = new Map<string, { close(): void }>();
  const startedAt = Date.now();
  hosts.addEventListener('message', (event: MessageEvent<HostsMessage>) => {
    const message = event.data;
    if (message?.type !== 'hello' || typeof message.tabId !== 'string') return;
    // A host another leader took over from (fenced) serves no one any more.
    if (host.superseded) return;
    // A tab repeats its hello until a welcome arrives, and may send one more while a welcome is on
    // its way: its link stays as it is (replacing it would drop the attach the tab may already have
    // sent on it, which then never answers); the welcome is only repeated.
    if (!links.has(message.tabId)) {
      const endpoint = createBroadcastEndpoint(new BroadcastChannel(linkChannelName(hostId, message.tabId)));
      links.set(message.tabId, endpoint);
      Comlink.expose(host, endpoint);
    }
    hosts.postMessage({ type: 'welcome', tabId: message.tabId, hostId, startedAt } satisfies HostsMessage);
  });
  // A tab that left for good (closed, or detached) never calls on its link again: close its
  // channel, or a long-lived leader keeps one per tab it ever served. A tab that only stopped
  // answering keeps its link (it re-attaches on it when it wakes).
  // The close waits a moment: the tab's `detach` is answered on that same link after it returns.
  host.onTabLeft((tabId) => {
    const link = links.get(tabId);
    if (link === undefined) return;
    setTimeout(() => {
      if (links.get(tabId) !== link) return; // the tab said hello again
      links.delete(tabId);
      link.close();
    }, LINK_CLOSE_DELAY_MS);
  });
}
