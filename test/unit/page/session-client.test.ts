import { afterEach, describe, expect, it, vi } from 'vitest';
import { HostUnavailableError, NoActiveSessionError, SessionError } from '../../../src/errors/index.js';
import { connectLeaderHost } from '../../../src/page/leader-connection.js';
import { HOST_CALL_TIMEOUT_MS, SessionClient } from '../../../src/page/session-client.js';
import { FakeClock } from '../support/fake-clock.js';
import { connectOverComlink, FakeHost, fakeEnvironment } from './fake-host.js';

const SERVER_URL = 'http://127.0.0.1:1';
const clients: SessionClient[] = [];
afterEach(() => clients.splice(0).forEach((client) => client.close()));

/** A client of a fake SharedWorker host reached over a real MessageChannel and comlink. */
function clientOf(host: FakeHost, clock = new FakeClock()) {
  const link = connectOverComlink(host);
  const client = new SessionClient({ serverUrl: SERVER_URL }, fakeEnvironment(clock, { 'shared-worker': () => link }));
  clients.push(client);
  return { client, clock, link };
}

/** Collects unhandled rejections while `run` runs and for two turns of the event loop after it. */
async function unhandledRejectionsOf(run: () => Promise<void>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const record = (reason: unknown) => void unhandled.push(reason);
  process.on('unhandledRejection', record);
  try {
    await run();
    for (let i = 0; i < 2; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', record);
  }
  return unhandled;
}

describe('SessionClient', () => {
  it('keeps typed errors from the host: updateSessionToken without a session rejects with NoActiveSessionError', async () => {
    const { client } = clientOf(new FakeHost());
    const error = await client.updateSessionToken('a.b.c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoActiveSessionError);
    expect(error).toMatchObject({ name: 'NoActiveSessionError', code: 'NO_ACTIVE_SESSION' });
  });

  it('lets a startSession made before close() settle with the host’s answer — no spurious rejection under React StrictMode', async () => {
    const host = new FakeHost();
    host.pause('startSession');
    // What StrictMode does: the effect creates a client and starts a session, its cleanup closes the
    // client at once, and the second mount creates another.
    const { client } = clientOf(host);
    const showError = vi.fn();
    const started = client.startSession('a.b.c').catch(showError);
    client.close();
    const second = clientOf(host).client;
    const secondStart = second.startSession('a.b.c');
    host.resume('startSession');
    await expect(started).resolves.toBeTypeOf('function');
    await secondStart;
    expect(showError).not.toHaveBeenCalled();
    await expect(client.getSession()).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
    // The closed tab detaches once its call settled; the second stays attached.
    await vi.waitFor(() => expect(host.methods).toContain('detach'), { interval: 1 });
    expect(host.tabs.size).toBe(1);
    expect(second.connectionStatus).toBe('OPEN');
  });

  it('resolves a publish made before close() with { seq } once its outcome arrives, and leaves no unhandled rejection', async () => {
    const host = new FakeHost();
    host.pause('publish');
    const { client } = clientOf(host);
    let outcome: unknown;
    const unhandled = await unhandledRejectionsOf(async () => {
      const published = client.publish('room', { text: 'hi' });
      client.close();
      await vi.waitFor(() => expect(host.methods).toContain('publish'), { interval: 1 });
      host.resume('publish');
      outcome = await published;
    });
    expect(outcome).toEqual({ seq: 1 });
    expect(unhandled).toEqual([]);
    await vi.waitFor(() => expect(host.methods.at(-1)).toBe('detach'), { interval: 1 });
  });

  it('rejects a publish whose host never answers with HostUnavailableError at the call deadline, also after close(), and leaves no unhandled rejection', async () => {
    const host = new FakeHost();
    host.silence('publish');
    const { client, clock } = clientOf(host);
    let error: unknown;
    const unhandled = await unhandledRejectionsOf(async () => {
      const published = client.publish('room', 1).catch((e: unknown) => e);
      await vi.waitFor(() => expect(host.methods).toContain('publish'), { interval: 1 });
      client.close();
      await clock.advance(HOST_CALL_TIMEOUT_MS);
      error = await published;
    });
    expect(error).toBeInstanceOf(HostUnavailableError);
    expect(unhandled).toEqual([]);
    await vi.waitFor(() => expect(host.methods.at(-1)).toBe('detach'), { interval: 1 });
  });

  it('after close(), rejects calls with CLIENT_CLOSED, fails new subscriptions through onError, and calls no listener', async () => {
    const host = new FakeHost();
    const { client } = clientOf(host);
    await client.getSession(); // attached
    const statuses: string[] = [];
    client.onConnectionStatusChange((status) => statuses.push(status));
    client.close();
    client.close(); // again: nothing
    host.broadcast({ type: 'status', status: 'OPEN' });
    const error = await client.publish('room', 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).code).toBe('CLIENT_CLOSED');
    const onError = vi.fn();
    client.subscribe('room', () => undefined, { onError });
    await vi.waitFor(() => expect(onError).toHaveBeenCalledOnce(), { interval: 1 });
    expect(onError.mock.calls[0]?.[0]).toMatchObject({ code: 'CLIENT_CLOSED' });
    await vi.waitFor(() => expect(host.methods.at(-1)).toBe('detach'), { interval: 1 });
    expect(statuses).toEqual([]);
  });

  it('rejects calls after a failed leader attach with HostUnavailableError, not TypeError', async () => {
    // Node has no Web Locks or dedicated workers: the leader host cannot start here.
    const clock = new FakeClock();
    const client = new SessionClient(
      { serverUrl: SERVER_URL, host: 'leader' },
      fakeEnvironment(clock, { leader: () => connectLeaderHost('tab', undefined) }),
    );
    clients.push(client);
    for (const call of [() => client.getSession(), () => client.endSession(), () => client.startSession('a.b.c')]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HostUnavailableError);
      expect(error).not.toBeInstanceOf(TypeError);
    }
    expect(client.hostKind).toBe('leader');
  });

  it('validates its arguments with TypeErrors', () => {
    const env = fakeEnvironment(new FakeClock(), { 'shared-worker': () => connectOverComlink(new FakeHost()) });
    expect(() => new SessionClient({ serverUrl: 'ftp://x' }, env)).toThrow(TypeError);
    expect(() => new SessionClient({ serverUrl: SERVER_URL, host: 'tab' as 'auto' }, env)).toThrow(TypeError);
    const { client } = clientOf(new FakeHost());
    expect(() => client.subscribe('', () => undefined)).toThrow(TypeError);
    expect(() => client.onSessionError('x' as unknown as () => void)).toThrow(TypeError);
    return expect(
      client.startSession('a.b.c', true, { refreshHandler: 'no' as unknown as () => Promise<string> }),
    ).rejects.toThrow(TypeError);
  });
});
