import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import type { SessionServer } from '../../../src/server/index.js';
import { connectSession, mint, startServer } from './helpers.js';

describe('token lifecycle', () => {
  let server: SessionServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.close());

  it('closes with 4002 when the token reaches exp, without any message from the client', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const { client } = await connectSession(server, await mint({ exp }));
    const closed = await client.closed;
    const at = Date.now();
    expect(closed).toEqual({ code: CloseCode.TOKEN_EXPIRED, reason: 'token expired' });
    expect(at).toBeGreaterThanOrEqual(exp * 1000 - 200);
    expect(at).toBeLessThanOrEqual(exp * 1000 + 1000);
  });

  it('replaces the token on the same socket and re-arms the expiry timer', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const { client, welcome } = await connectSession(server, await mint({ exp, roles: ['a'] }));
    const later = Math.floor(Date.now() / 1000) + 3600;
    client.send({ type: 'update-token', id: 7, token: await mint({ exp: later, roles: ['a'] }) });
    expect(await client.next()).toEqual({ type: 'token-updated', id: 7, expiresAt: later * 1000, roles: ['a'] });
    expect(welcome.expiresAt).toBe(exp * 1000);
    // Past the first token's exp the socket still answers: the old timer was replaced.
    const pastFirstExp = exp * 1000 + 300 - Date.now();
    await new Promise((resolve) => setTimeout(resolve, pastFirstExp));
    client.send({ type: 'ping', id: 8 });
    expect(await client.next()).toMatchObject({ type: 'pong', id: 8 });
    await client.close();
  });

  it('answers ROLES_MISMATCH and then closes with 4003 when the new token has other roles', async () => {
    const { client } = await connectSession(server, await mint({ roles: ['reader'] }));
    client.send({ type: 'update-token', id: 1, token: await mint({ roles: ['reader', 'admin'] }) });
    expect(await client.next()).toMatchObject({ type: 'error', id: 1, code: 'ROLES_MISMATCH' });
    expect((await client.closed).code).toBe(CloseCode.ROLES_MISMATCH);
  });

  it('treats the same roles in another order as the same roles', async () => {
    const { client } = await connectSession(server, await mint({ roles: ['b', 'a'] }));
    client.send({ type: 'update-token', id: 1, token: await mint({ roles: 'a b' }) });
    expect(await client.next()).toMatchObject({ type: 'token-updated', id: 1 });
    await client.close();
  });

  it('refuses a token for another sub with USER_MISMATCH and keeps the socket', async () => {
    const { client } = await connectSession(server, await mint({ sub: 'alice' }));
    client.send({ type: 'update-token', id: 2, token: await mint({ sub: 'bob' }) });
    expect(await client.next()).toMatchObject({ type: 'error', id: 2, code: 'USER_MISMATCH' });
    client.send({ type: 'ping', id: 3 });
    expect(await client.next()).toMatchObject({ type: 'pong', id: 3 });
    await client.close();
  });

  it('refuses an expired token with TOKEN_EXPIRED and keeps the session on the old token', async () => {
    const exp = Math.floor(Date.now() / 1000) + 3600;
    const { client } = await connectSession(server, await mint({ exp }));
    client.send({ type: 'update-token', id: 4, token: await mint({ exp: Math.floor(Date.now() / 1000) - 1 }) });
    expect(await client.next()).toMatchObject({ type: 'error', id: 4, code: 'TOKEN_EXPIRED' });
    client.send({ type: 'ping', id: 5 });
    expect(await client.next()).toMatchObject({ type: 'pong', id: 5 });
    await client.close();
  });

  it('refuses an invalid token with UNAUTHORIZED and keeps the socket', async () => {
    const { client } = await connectSession(server, await mint());
    client.send({
      type: 'update-token',
      id: 6,
      token: await mint({}, { secret: 'wrong-secret-wrong-secret-wrong-secret' }),
    });
    expect(await client.next()).toMatchObject({ type: 'error', id: 6, code: 'UNAUTHORIZED' });
    client.send({ type: 'ping', id: 7 });
    expect(await client.next()).toMatchObject({ type: 'pong', id: 7 });
    await client.close();
  });

  it('answers ping with pong carrying the server time', async () => {
    const { client } = await connectSession(server, await mint());
    const before = Date.now();
    client.send({ type: 'ping', id: 42 });
    const pong = await client.next();
    expect(pong).toEqual({ type: 'pong', id: 42, serverTime: expect.any(Number) });
    if (pong.type === 'pong') expect(pong.serverTime).toBeGreaterThanOrEqual(before);
    await client.close();
  });

  it('processes frames in order: a ping sent right after update-token is answered after token-updated', async () => {
    const { client } = await connectSession(server, await mint());
    client.send({ type: 'update-token', id: 1, token: await mint() });
    client.send({ type: 'ping', id: 2 });
    expect((await client.next()).type).toBe('token-updated');
    expect((await client.next()).type).toBe('pong');
    await client.close();
  });
});
