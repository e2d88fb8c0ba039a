import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import { MIN_WIRE_PROTOCOL_VERSION, PROTOCOL_VERSION, WIRE_PROTOCOL_VERSION } from '../../../src/protocol/version.js';
import type { SessionServer } from '../../../src/server/index.js';
import { connectSession, mint, startServer, TestClient } from './helpers.js';
import { expectNothingBeforePong } from './topic-helpers.js';

describe('handshake', () => {
  let server: SessionServer;
  beforeAll(async () => {
    server = await startServer({ schema: { versions: [2, 3] }, helloTimeoutMs: 300 });
  });
  afterAll(() => server.close());

  it('answers hello with a welcome carrying the session, user, sorted roles, expiry and server time', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const token = await mint({ sub: 'alice', roles: ['writer', 'reader', 'writer'], exp });
    const sessionId = randomUUID();
    const before = Date.now();
    const { client, welcome } = await connectSession(server, token, { sessionId });
    expect(welcome).toEqual({
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      sessionId,
      userId: 'alice',
      roles: ['reader', 'writer'],
      expiresAt: exp * 1000,
      serverTime: expect.any(Number),
      resumed: false,
      rolesClaim: 'roles',
    });
    expect(welcome.serverTime).toBeGreaterThanOrEqual(before);
    expect(welcome.serverTime).toBeLessThanOrEqual(Date.now());
    await client.close();
  });

  it('reports expiresAt null for a token without exp', async () => {
    const { client, welcome } = await connectSession(server, await mint({}, { expiresIn: null }));
    expect(welcome.expiresAt).toBeNull();
    await client.close();
  });

  it('reports resumed: true when the same user reconnects with a known session id', async () => {
    const sessionId = randomUUID();
    const token = await mint({ sub: 'bob' });
    const first = await connectSession(server, token, { sessionId });
    await first.client.close();
    const second = await connectSession(server, token, { sessionId });
    expect(second.welcome.resumed).toBe(true);
    expect(second.welcome.sessionId).toBe(sessionId);
    await second.client.close();
  });

  it("gives another user who presents a known session id a session of its own, never the owner's", async () => {
    const sessionId = randomUUID();
    const owner = await connectSession(server, await mint({ sub: 'carol' }), { sessionId });
    const intruder = await connectSession(server, await mint({ sub: 'mallory' }), { sessionId });
    expect(intruder.welcome).toMatchObject({ sessionId, userId: 'mallory', resumed: false });
    // The intruder ending "its" session never reaches the owner's sockets.
    intruder.client.send({ type: 'end' });
    expect((await intruder.client.closed).code).toBe(CloseCode.SESSION_ENDED);
    await expectNothingBeforePong(owner.client, 1);
    const again = await connectSession(server, await mint({ sub: 'carol' }), { sessionId });
    expect(again.welcome).toMatchObject({ userId: 'carol', resumed: true });
    await Promise.all([owner.client.close(), again.client.close()]);
  });

  it.each([
    [
      PROTOCOL_VERSION + 1,
      `server too old: client wire protocol ${PROTOCOL_VERSION + 1}, server serves ${PROTOCOL_VERSION}`,
    ],
    [
      MIN_WIRE_PROTOCOL_VERSION - 1,
      `client too old: wire protocol ${MIN_WIRE_PROTOCOL_VERSION - 1}, server serves ${PROTOCOL_VERSION}`,
    ],
  ])(
    'closes with 4006 and names the side that is too old when the client speaks protocol %i',
    async (protocol, reason) => {
      const token = await mint();
      const client = await TestClient.connect(server.url);
      client.send({ type: 'hello', protocol, token, sessionId: randomUUID() });
      expect(await client.closed).toEqual({ code: CloseCode.UNSUPPORTED_PROTOCOL, reason });
    },
  );

  it('welcomes a client of every served protocol version in the version it speaks', async () => {
    for (let protocol = MIN_WIRE_PROTOCOL_VERSION; protocol <= WIRE_PROTOCOL_VERSION; protocol++) {
      const client = await TestClient.connect(server.url);
      expect(await client.hello(await mint(), { protocol })).toMatchObject({ type: 'welcome', protocol });
      await client.close();
    }
  });

  it('closes with 4004 when the schema version is not served', async () => {
    const token = await mint();
    const client = await TestClient.connect(server.url);
    client.send({ type: 'hello', protocol: PROTOCOL_VERSION, token, sessionId: 's', schemaVersion: 1 });
    expect(await client.closed).toEqual({
      code: CloseCode.SCHEMA_MISMATCH,
      reason: 'schema version 1 not served (serves 2, 3)',
    });
  });

  it('accepts a served schema version and a hello without one', async () => {
    const served = await connectSession(server, await mint(), { schemaVersion: 3 });
    const unspecified = await connectSession(server, await mint());
    await Promise.all([served.client.close(), unspecified.client.close()]);
  });

  it.each([
    ['a non-JSON frame', 'hello?'],
    ['a frame that is not an object', '[1, 2]'],
    ['a hello with missing fields', JSON.stringify({ type: 'hello', protocol: PROTOCOL_VERSION })],
    ['an unknown message type', JSON.stringify({ type: 'bonjour' })],
    ['a ping', JSON.stringify({ type: 'ping', id: 1 })],
  ])('closes with 4000 when the first frame is %s', async (_, frame) => {
    const client = await TestClient.connect(server.url);
    client.send(frame);
    expect((await client.closed).code).toBe(CloseCode.PROTOCOL_ERROR);
  });

  it('closes with 4000 when the first frame is binary', async () => {
    const client = await TestClient.connect(server.url);
    client.send(Buffer.from([1, 2, 3]));
    expect(await client.closed).toEqual({ code: CloseCode.PROTOCOL_ERROR, reason: 'binary frames are not supported' });
  });

  it('closes with 4008 when no hello arrives before the hello timeout', async () => {
    const opened = Date.now();
    const client = await TestClient.connect(server.url);
    expect((await client.closed).code).toBe(CloseCode.HELLO_TIMEOUT);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(290);
  });

  it('accepts the upgrade on any path', async () => {
    const token = await mint();
    const client = await TestClient.connect(`${server.url}/some/deep/path?x=1`);
    expect((await client.hello(token)).type).toBe('welcome');
    await client.close();
  });
});
