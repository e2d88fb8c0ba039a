import * as Comlink from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { NoActiveSessionError } from '../../../src/errors/index.js';
import { createBroadcastEndpoint } from '../../../src/shared/broadcast-endpoint.js';
import { registerErrorTransfer } from '../../../src/shared/error-transfer.js';

const opened: { close(): void }[] = [];
function link(name: string) {
  const endpoint = createBroadcastEndpoint(new BroadcastChannel(name));
  opened.push(endpoint);
  return endpoint;
}
afterEach(() => opened.splice(0).forEach((e) => e.close()));

describe('createBroadcastEndpoint', () => {
  registerErrorTransfer();

  it('carries comlink calls and their answers over a BroadcastChannel', async () => {
    const name = `test-${crypto.randomUUID()}`;
    Comlink.expose({ add: (a: number, b: number) => a + b }, link(name));
    const remote = Comlink.wrap<{ add(a: number, b: number): number }>(link(name));
    expect(await remote.add(2, 3)).toBe(5);
  });

  it('tunnels callback proxies, which travel as transferred MessagePorts', async () => {
    const name = `test-${crypto.randomUUID()}`;
    const host = {
      async attach(callbacks: { onEvent(n: number): void; fetchToken(): Promise<string> }) {
        callbacks.onEvent(1);
        callbacks.onEvent(2);
        return `got ${await callbacks.fetchToken()}`;
      },
    };
    Comlink.expose(host, link(name));
    const remote = Comlink.wrap<typeof host>(link(name));
    const events: number[] = [];
    const answer = await remote.attach(
      Comlink.proxy({ onEvent: (n: number) => void events.push(n), fetchToken: async () => 'token-2' }),
    );
    expect(answer).toBe('got token-2');
    expect(events).toEqual([1, 2]);
  });

  it('keeps typed errors across the tunnel', async () => {
    const name = `test-${crypto.randomUUID()}`;
    Comlink.expose(
      {
        fail: () => {
          throw new NoActiveSessionError();
        },
      },
      link(name),
    );
    const remote = Comlink.wrap<{ fail(): void }>(link(name));
    await expect(remote.fail()).rejects.toBeInstanceOf(NoActiveSessionError);
  });

  it('ignores frames that are not its own', async () => {
    const name = `test-${crypto.randomUUID()}`;
    Comlink.expose({ ping: () => 'pong' }, link(name));
    const noise = new BroadcastChannel(name);
    noise.postMessage('garbage');
    noise.postMessage(null);
    noise.postMessage({ port: 'unknown', data: 1 });
    const remote = Comlink.wrap<{ ping(): string }>(link(name));
    expect(await remote.ping()).toBe('pong');
    noise.close();
  });
});
