import * as Comlink from 'comlink';
import { linkChannelName, type HostsMessage } from '../protocol/host-discovery.js';
import { createBroadcastEndpoint } from '../shared/broadcast-endpoint.js';
import type { SessionHost } from './session-host.js';

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
}
