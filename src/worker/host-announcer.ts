import type { HostKind } from '../protocol/host-api.js';
import { HOSTS_CHANNEL, type HostsMessage } from '../protocol/host-discovery.js';
import { PROTOCOL_VERSION } from '../protocol/version.js';

/** What an announced host reacts to. */
export interface AnnouncedHost {
  notifyNewerBuild(buildId: string): void;
}

/**
 * Announces a starting host on the hosts channel and listens for hosts that start later with
 * another build id (a deploy left tabs of two builds open): this host's tabs are then told
 * `update-available`. Returns the channel for the leader host to reuse, or undefined where
 * BroadcastChannel is missing.
 *
 * @param host - the host to notify
 * @param identity - this host's id, kind and build id
 */
export function announceHost(
  host: AnnouncedHost,
  identity: { hostId: string; kind: HostKind; buildId: string },
): BroadcastChannel | undefined {
  if (typeof BroadcastChannel === 'undefined') return undefined;
  const channel = new BroadcastChannel(HOSTS_CHANNEL);
  const startedAt = Date.now();
  channel.addEventListener('message', (event: MessageEvent<HostsMessage>) => {
    const message = event.data;
    if (message?.type !== 'host-ready' || message.hostId === identity.hostId) return;
    if (message.buildId !== identity.buildId && message.startedAt >= startedAt) host.notifyNewerBuild(message.buildId);
  });
  channel.postMessage({
    type: 'host-ready',
    hostId: identity.hostId,
    kind: identity.kind,
    buildId: identity.buildId,
    protocol: PROTOCOL_VERSION,
    startedAt,
  } satisfies HostsMessage);
  return channel;
}
