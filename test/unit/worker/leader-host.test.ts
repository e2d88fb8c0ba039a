import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import type { HostApi } from '../../../src/protocol/host-api.js';
import { linkChannelName, type HostsMessage } from '../../../src/protocol/host-discovery.js';
import { createBroadcastEndpoint } from '../../../src/shared/broadcast-endpoint.js';
import { LINK_CLOSE_DELAY_MS, serveOverBroadcast } from '../../../src/worker/leader-host.js';
import { startHost } from '../support/host-harness.js';

const channels: BroadcastChannel[] = [];
afterEach(() => {
  for (const channel of channels.splice(0)) channel.close();
});

/** A hosts channel of this test's own name, so that parallel test files never hear each other. */
function channel(name: string): BroadcastChannel {
  const opened = new BroadcastChannel(name);
  channels.push(opened);
  return opened;
}

describe('serveOverBroadcast (the leader-tab host)', () => {
  it("keeps a tab's link when the tab repeats its hello: a call it sent on the link before the second welcome is answered", async () => {
    const { host } = await startHost();
    const hostsName = `hosts-${crypto.randomUUID()}`;
    serveOverBroadcast(host, 'host-1', channel(hostsName));
    const tabSide = channel(hostsName);
    const welcomes: HostsMessage[] = [];
    tabSide.onmessage = (event: MessageEvent<HostsMessage>) => {
      if (event.data.type === 'welcome') welcomes.push(event.data);
    };
    tabSide.postMessage({ type: 'hello', tabId: 'tab-1' } satisfies HostsMessage);
    await expect.poll(() => welcomes.length).toBe(1);

    // The tab's hello timer fired once more while the welcome was on its way, and the tab, welcomed,
    // already calls the host on its link.
    const link = createBroadcastEndpoint(channel(linkChannelName('host-1', 'tab-1')));
    const api = Comlink.wrap<HostApi>(link);
    tabSide.postMessage({ type: 'hello', tabId: 'tab-1' } satisfies HostsMessage);
    const answered = api.ping();
    await expect.poll(() => welcomes.length).toBe(2);
    await expect(answered).resolves.toBeTypeOf('number');
    link.close();
  });

  it("closes a tab's link once the tab detached (its detach still answered), and opens a new one on its next hello", async () => {
    const { host, attachTab } = await startHost();
    const hostsName = `hosts-${crypto.randomUUID()}`;
    serveOverBroadcast(host, 'host-1', channel(hostsName));
    const tab = await attachTab();
    const tabSide = channel(hostsName);
    let welcomes = 0;
    tabSide.onmessage = (event: MessageEvent<HostsMessage>) => {
      if (event.data.type === 'welcome') welcomes++;
    };
    tabSide.postMessage({ type: 'hello', tabId: tab.tabId } satisfies HostsMessage);
    await expect.poll(() => welcomes).toBe(1);
    const link = createBroadcastEndpoint(channel(linkChannelName('host-1', tab.tabId)));
    const api = Comlink.wrap<HostApi>(link);
    await expect(api.ping()).resolves.toBeTypeOf('number');

    await expect(api.detach(tab.tabId)).resolves.toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, LINK_CLOSE_DELAY_MS + 200));
    const unanswered = Symbol('unanswered');
    const late = new Promise((resolve) => setTimeout(() => resolve(unanswered), 300));
    expect(await Promise.race([api.ping(), late])).toBe(unanswered);

    tabSide.postMessage({ type: 'hello', tabId: tab.tabId } satisfies HostsMessage);
    await expect.poll(() => welcomes).toBe(2);
    const relinked = createBroadcastEndpoint(channel(linkChannelName('host-1', tab.tabId)));
    await expect(Comlink.wrap<HostApi>(relinked).ping()).resolves.toBeTypeOf('number');
    link.close();
    relinked.close();
  });
});
