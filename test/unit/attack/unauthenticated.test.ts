import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import type { SessionServer, SessionServerOptions } from '../../../src/server/index.js';
import { connectSession, mint, startServer, TestClient, waitFor } from '../server/helpers.js';
import { expectNothingBeforePong } from '../server/topic-helpers.js';
import { openRaw, type RawSocket } from './raw-socket.js';

// Issue 10, "memory without a token": each attack of an unauthenticated client first, then the
// bound the server keeps, asserted in sockets and bytes (never in time).

let server: SessionServer | undefined;
const raws: RawSocket[] = [];
afterEach(async () => {
  for (const raw of raws.splice(0)) raw.destroy();
  await server?.close();
  server = undefined;
});

async function start(options: Partial<SessionServerOptions> = {}): Promise<SessionServer> {
  server = await startServer(options);
  return server;
}

async function raw(url: string): Promise<RawSocket> {
  const socket = await openRaw(url);
  raws.push(socket);
  return socket;
}

describe('before hello', () => {
  it('closes with 4009 a socket sending all but the last byte of a 1 MiB frame, after at most the pre-hello budget', async () => {
    const s = await start();
    const healthy = await connectSession(s, await mint({ sub: 'healthy' }));
    const attackers = await Promise.all(Array.from({ length: 20 }, () => raw(s.url)));
    const declared = 1024 * 1024;
    const sent = 64 * 1024; // far less than declared, far more than the 20 KiB budget
    for (const attacker of attackers) attacker.writeFrame(Buffer.alloc(sent, 0x5b), declared);
    await Promise.all(attackers.map((attacker) => attacker.ended));
    // The server closed each one although the frame never completed: it did not hold 1 MiB each.
    for (const attacker of attackers) expect(attacker.closeCode()).toBe(CloseCode.MESSAGE_TOO_LARGE);
    await expectNothingBeforePong(healthy.client, 1);
    await healthy.client.close();
  });

  it('counts many small frames before welcome against the same budget', async () => {
    // A key set that never answers: the hello's verification hangs, and frames pile up behind it.
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = hanging.address() as AddressInfo;
      const s = await start({ auth: { jwksUrl: `http://127.0.0.1:${port}/jwks` }, limits: { maxPreHelloBytes: 2048 } });
      const client = await TestClient.connect(s.url);
      const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'k' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify({ sub: 'alice' })).toString('base64url');
      client.send({ type: 'hello', protocol: 1, token: `${header}.${payload}.c2ln`, sessionId: 's' });
      for (let i = 0; i < 200; i++) client.send({ type: 'ping', id: i });
      expect((await client.closed).code).toBe(CloseCode.MESSAGE_TOO_LARGE);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });

  it('refuses a first frame nested deeper than maxJsonDepth with 4000 before parsing it', async () => {
    const s = await start();
    const client = await TestClient.connect(s.url);
    client.send('['.repeat(15_000));
    expect(await client.closed).toEqual({
      code: CloseCode.PROTOCOL_ERROR,
      reason: 'frame is nested deeper than 64 levels',
    });
  });

  it('terminates a raw socket that sends nothing at the hello deadline (it ignores close frames)', async () => {
    const s = await start({ helloTimeoutMs: 50 });
    const attacker = await raw(s.url);
    expect(attacker.status).toContain('101');
    await attacker.ended; // destroyed by the server: the raw socket never answered the close frame
    await waitFor(() => s.stats().sockets === 0);
  });

  it('destroys a raw socket that ignores the close frame after a refused hello', async () => {
    const s = await start();
    const attacker = await raw(s.url);
    attacker.writeFrame(Buffer.from('{"type":"ping","id":1}'));
    await attacker.ended;
    expect(attacker.closeCode()).toBe(CloseCode.PROTOCOL_ERROR);
  });

  it('refuses a token over maxTokenBytes with 4001 without verifying it', async () => {
    const s = await start({ limits: { maxTokenBytes: 1024 } });
    const client = await TestClient.connect(s.url);
    client.send({ type: 'hello', protocol: 1, token: `${'a'.repeat(2000)}.b.c`, sessionId: 's' });
    expect(await client.closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'token too large' });
  });
});

describe('unauthenticated sockets', () => {
  it('answers HTTP 429 at the upgrade past maxUnauthenticatedPerIp, and admits again once one authenticated', async () => {
    const s = await start({ limits: { maxUnauthenticatedPerIp: 5 } });
    const waiting = await Promise.all(Array.from({ length: 5 }, () => TestClient.connect(s.url)));
    const refused = await raw(s.url);
    expect(refused.status).toBe('HTTP/1.1 429 Too Many Requests');
    await refused.ended;
    const first = waiting[0]!;
    expect(await first.hello(await mint())).toMatchObject({ type: 'welcome' });
    const admitted = await raw(s.url);
    expect(admitted.status).toContain('101');
    await Promise.all(waiting.map((client) => client.close()));
  });

  it('answers HTTP 503 past maxUnauthenticatedSockets overall, whatever the address', async () => {
    const s = await start({ limits: { maxUnauthenticatedSockets: 3 } });
    const waiting = await Promise.all(Array.from({ length: 3 }, () => raw(s.url)));
    for (const socket of waiting) expect(socket.status).toContain('101');
    expect((await raw(s.url)).status).toBe('HTTP/1.1 503 Service Unavailable');
    expect(s.stats().sockets).toBe(3);
    waiting[0]!.destroy();
    await waitFor(() => s.stats().sockets === 2);
    expect((await raw(s.url)).status).toContain('101');
  });

  it('caps 300 sockets that never send hello at the default per-IP limit (256)', async () => {
    const s = await start();
    const attempts = await Promise.all(Array.from({ length: 300 }, () => raw(s.url)));
    const accepted = attempts.filter((socket) => socket.status.includes('101')).length;
    expect(accepted).toBe(256);
    expect(attempts.filter((socket) => socket.status.includes('429')).length).toBe(44);
  });
});
