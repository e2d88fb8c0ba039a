import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import type { ServerMessage } from '../../../src/protocol/messages.js';
import type { SessionServer } from '../../../src/server/index.js';
import { connectSession, mint, startServer, TestClient } from './helpers.js';

let server: SessionServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('bad input after hello', () => {
  it('answers each garbage frame with a BAD_MESSAGE error, keeps the socket, and still serves another client', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    const garbage: Array<[unknown, number | undefined]> = [
      ['{not json', undefined],
      ['[1, 2, 3]', undefined],
      ['"just a string"', undefined],
      ['null', undefined],
      [{ id: 1 }, 1],
      [{ type: 'teleport', id: 7 }, 7],
      [{ type: 'ping' }, undefined],
      [{ type: 'ping', id: -1 }, undefined],
      [{ type: 'update-token', id: 3 }, 3],
      [{ type: 'subscribe', id: 4, topic: '', after: 0 }, 4],
      [Buffer.from('binary frame'), undefined],
    ];
    for (const [frame, id] of garbage) {
      client.send(frame);
      const error = await client.next();
      expect(error).toMatchObject({ type: 'error', code: 'BAD_MESSAGE', message: expect.any(String) });
      expect((error as Extract<ServerMessage, { type: 'error' }>).id).toBe(id);
    }
    client.send({ type: 'ping', id: 100 });
    expect(await client.next()).toMatchObject({ type: 'pong', id: 100 });

    const other = await connectSession(server, await mint({ sub: 'bob' }));
    expect(other.welcome.userId).toBe('bob');
    await Promise.all([client.close(), other.client.close()]);
  });

  it('answers a second hello with BAD_MESSAGE', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    expect(await client.hello(await mint())).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    await client.close();
  });

  it('answers malformed topic messages with BAD_MESSAGE and the request id, and keeps the socket', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    client.send({ type: 'subscribe', id: 1, topic: '', after: 0 });
    client.send({ type: 'subscribe', id: 2, topic: 'news', after: -1 });
    client.send({ type: 'publish', id: 3, topic: 'news', clientId: '', data: 1 });
    client.send({ type: 'publish', id: 4, topic: 'news', clientId: 'c1' });
    client.send({ type: 'unsubscribe', topic: 'x'.repeat(257) });
    // A lone surrogate passes JSON.parse but no store key can hold it.
    client.send('{"type":"publish","id":5,"topic":"news\\ud800","clientId":"c1","data":1}');
    client.send({ type: 'ping', id: 6 });
    for (const id of [1, 2, 3, 4])
      expect(await client.next()).toMatchObject({ type: 'error', id, code: 'BAD_MESSAGE' });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'BAD_MESSAGE' });
    expect(await client.next()).toMatchObject({ type: 'error', id: 5, code: 'BAD_MESSAGE' });
    expect(await client.next()).toMatchObject({ type: 'pong', id: 6 });
    expect(server.stats()).toMatchObject({ subscriptions: 0, changesStored: 0 });
    await client.close();
  });

  it('refuses a frame nested deeper than maxJsonDepth with BAD_MESSAGE before parsing it', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    const depth = 300_000; // would parse, but JSON.stringify would run out of stack
    client.send(`{"type":"publish","id":1,"topic":"t","clientId":"c","data":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    expect(await client.next()).toEqual({
      type: 'error',
      code: 'BAD_MESSAGE',
      message: 'frame is nested deeper than 64 levels',
    });
    expect(await server.publish('t', 'still fine')).toEqual({ seq: 1 });
    await client.close();
  });
});

describe('limits', () => {
  it('closes with 4009 when a frame exceeds maxPayloadBytes', async () => {
    server = await startServer({ maxPayloadBytes: 1024 });
    const { client } = await connectSession(server, await mint());
    client.send({ type: 'ping', id: 1, padding: 'x'.repeat(2048) });
    expect(await client.closed).toEqual({
      code: CloseCode.MESSAGE_TOO_LARGE,
      reason: 'message too large (limit 1024 bytes)',
    });
  });

  it('closes with 4009 for a frame far above the limit, and a frame just under it still passes', async () => {
    server = await startServer({ maxPayloadBytes: 1024 });
    const { client } = await connectSession(server, await mint());
    const frame = JSON.stringify({ type: 'ping', id: 1, pad: '' });
    client.send(JSON.stringify({ type: 'ping', id: 1, pad: 'x'.repeat(1024 - frame.length) }));
    expect(await client.next()).toMatchObject({ type: 'pong', id: 1 });
    client.send('x'.repeat(512 * 1024));
    expect((await client.closed).code).toBe(CloseCode.MESSAGE_TOO_LARGE);
  });

  it('answers a flood with RATE_LIMITED errors, then closes with 4029', async () => {
    server = await startServer({ rateLimit: { messagesPerSecond: 5, burst: 5 } });
    const { client } = await connectSession(server, await mint());
    for (let id = 1; id <= 30; id++) client.send({ type: 'ping', id });
    const closed = await client.closed;
    const frames = client.drain();
    expect(frames.filter((f) => f.type === 'pong').length).toBeGreaterThanOrEqual(3);
    const limited = frames.filter((f) => f.type === 'error' && f.code === 'RATE_LIMITED');
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited[0]).toMatchObject({ id: expect.any(Number), message: expect.any(String) });
    expect(closed.code).toBe(CloseCode.RATE_LIMITED);
  });

  it('does not rate-limit a connection that stays under its limit', async () => {
    server = await startServer({ rateLimit: { messagesPerSecond: 1000, burst: 50 } });
    const { client } = await connectSession(server, await mint());
    for (let id = 1; id <= 40; id++) client.send({ type: 'ping', id });
    for (let id = 1; id <= 40; id++) expect(await client.next()).toMatchObject({ type: 'pong', id });
    await client.close();
  });
});

describe('heartbeat', () => {
  it('terminates a socket that stops answering pings, and keeps one that answers', async () => {
    server = await startServer({ heartbeatIntervalMs: 40 });
    const silent = await TestClient.connect(server.url, { autoPong: false });
    const healthy = await connectSession(server, await mint());
    let pings = 0;
    const fivePings = new Promise<void>((resolve) =>
      healthy.client.ws.on('ping', () => {
        if (++pings === 5) resolve();
      }),
    );
    expect((await silent.closed).code).toBe(1006);
    await fivePings;
    healthy.client.send({ type: 'ping', id: 1 });
    expect(await healthy.client.next()).toMatchObject({ type: 'pong', id: 1 });
    await healthy.client.close();
  });
});
