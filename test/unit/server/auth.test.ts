import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SessionError } from '../../../src/errors/index.js';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import {
  createTokenVerifier,
  DEFAULT_JWKS_CACHE_MAX_AGE_MS,
  DEFAULT_JWKS_COOLDOWN_MS,
  DEFAULT_JWKS_RETRY_AFTER_MS,
  DEFAULT_JWKS_STALE_IF_ERROR_MS,
  DEFAULT_JWKS_TIMEOUT_MS,
  type AuthOptions,
  type JwksOptions,
  type Logger,
  type SessionServer,
  type VerifyToken,
} from '../../../src/server/index.js';
import { TRY_AGAIN_LATER } from '../../../src/server/session/handshake.js';
import { connectSession, mint, SECRET, startServer, TestClient } from './helpers.js';
import { JwksServer, signingKey, type SigningKey } from './jwks-server.js';

async function refusal(server: SessionServer, token: string) {
  const client = await TestClient.connect(server.url);
  client.send({ type: 'hello', protocol: 1, token, sessionId: 'refused' });
  return client.closed;
}

const now = () => Math.floor(Date.now() / 1000);

describe('token verification with a shared secret', () => {
  let server: SessionServer;
  beforeAll(async () => {
    server = await startServer({ auth: { secret: SECRET, issuer: 'https://issuer.test', audience: 'app' } });
  });
  afterAll(() => server.close());

  const valid = { iss: 'https://issuer.test', aud: 'app' };

  it('accepts a token signed with the secret and matching issuer and audience', async () => {
    const { client, welcome } = await connectSession(server, await mint(valid));
    expect(welcome.userId).toBe('alice');
    await client.close();
  });

  it.each([
    [
      'a bad signature',
      () => mint(valid, { secret: 'another-secret-of-sufficient-length-123' }),
      'token signature invalid',
    ],
    ['alg none', async () => new UnsecuredJWT({ ...valid, sub: 'alice' }).encode(), 'token algorithm not accepted'],
    ['a malformed token', async () => 'not.a.jwt', 'token is not a valid JWT'],
    ['an expired token', () => mint({ ...valid, exp: now() - 10 }), 'token expired'],
    ['an nbf in the future', () => mint({ ...valid, nbf: now() + 60 }), 'token not yet valid (nbf)'],
    ['a wrong issuer', () => mint({ ...valid, iss: 'https://evil.test' }), 'token issuer not accepted'],
    ['a wrong audience', () => mint({ ...valid, aud: 'other-app' }), 'token audience not accepted'],
    ['no sub', () => mint({ ...valid, sub: undefined }), 'the token has no "sub" claim'],
  ])('closes with 4001 for %s', async (_, token, reason) => {
    expect(await refusal(server, await token())).toEqual({ code: CloseCode.UNAUTHORIZED, reason });
  });

  it('closes with 4001 for an HS512 token when only HS256 is configured', async () => {
    const strict = await startServer({ auth: { secret: SECRET, algorithms: ['HS256'] } });
    const closed = await refusal(strict, await mint({}, { alg: 'HS512' }));
    expect(closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'token algorithm not accepted' });
    await strict.close();
  });

  it('reads roles from a custom claim holding a space-separated string', async () => {
    const custom = await startServer({ auth: { secret: SECRET, rolesClaim: 'https://app.test/roles' } });
    const { client, welcome } = await connectSession(custom, await mint({ 'https://app.test/roles': 'user admin' }));
    expect(welcome.roles).toEqual(['admin', 'user']);
    await client.close();
    await custom.close();
  });
});

describe('token verification with a public key', () => {
  let server: SessionServer;
  let privateKey: CryptoKey;
  beforeAll(async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    privateKey = pair.privateKey;
    server = await startServer({ auth: { publicKey: await exportSPKI(pair.publicKey) } });
  });
  afterAll(() => server.close());

  it('accepts an ES256 token verified with an SPKI PEM public key', async () => {
    const token = await new SignJWT({ sub: 'dana', roles: ['x'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setExpirationTime('1h')
      .sign(privateKey);
    const { client, welcome } = await connectSession(server, token);
    expect(welcome).toMatchObject({ userId: 'dana', roles: ['x'] });
    await client.close();
  });

  it('closes with 4001 for an HMAC token (no algorithm confusion with the public key)', async () => {
    expect((await refusal(server, await mint())).code).toBe(CloseCode.UNAUTHORIZED);
  });

  it('refuses a PEM that is not a public key at startup', async () => {
    await expect(startServer({ auth: { publicKey: 'not a pem' } })).rejects.toThrow(TypeError);
  });
});

describe('token verification with a JWKS URL', () => {
  let jwks: Server;
  let server: SessionServer;
  let privateKey: CryptoKey;
  let fetches = 0;
  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_, res) => {
      fetches++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    server = await startServer({
      auth: { jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`, audience: 'app' },
    });
  });
  afterAll(async () => {
    await server.close();
    await new Promise((resolve) => jwks.close(resolve));
  });

  const sign = (kid: string) =>
    new SignJWT({ sub: 'erin', aud: 'app' })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setExpirationTime('1h')
      .sign(privateKey);

  it('accepts an RS256 token whose key is served by the JWKS, fetching the set once', async () => {
    const first = await connectSession(server, await sign('key-1'));
    const second = await connectSession(server, await sign('key-1'));
    expect(first.welcome.userId).toBe('erin');
    expect(fetches).toBe(1);
    await Promise.all([first.client.close(), second.client.close()]);
  });

  it('closes with 4001 when no key of the set matches the token', async () => {
    const closed = await refusal(server, await sign('unknown-kid'));
    expect(closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'no key matches the token' });
  });
});

describe('auth options', () => {
  it.each([
    ['no key at all', {}],
    ['two keys', { secret: 'a', jwksUrl: 'https://x.test/jwks' }],
    ['an empty secret', { secret: '' }],
    ['a relative JWKS URL', { jwksUrl: '/jwks.json' }],
    ['alg none', { secret: 'a', algorithms: ['none'] }],
    ['an asymmetric algorithm with a secret', { secret: 'a', algorithms: ['RS256'] }],
  ])('refuses %s with a TypeError', (_, auth) => {
    expect(() => createTokenVerifier(auth)).toThrow(TypeError);
  });
});

describe('a key-set (JWKS) outage is retryable (1013), never a logout', () => {
  let jwks: JwksServer;
  let key: SigningKey;
  const opened: SessionServer[] = [];
  beforeAll(async () => {
    key = await signingKey('ES256', 'key-1');
    jwks = await JwksServer.start();
    jwks.keys.push(key.jwk);
  });
  afterEach(async () => {
    jwks.behaviour = 'ok';
    await Promise.all(opened.splice(0).map((server) => server.close()));
  });
  afterAll(() => jwks.close());

  /** A server on the local key set; every verification fetches it (no cache) unless told otherwise. */
  async function serverOnKeySet(jwksOptions: JwksOptions = {}, logger?: Logger) {
    const server = await startServer({
      auth: {
        jwksUrl: jwks.url,
        jwks: { cacheMaxAgeMs: 0, cooldownMs: 0, staleIfErrorMs: 0, retryAfterMs: 0, timeoutMs: 200, ...jwksOptions },
      },
      ...(logger === undefined ? {} : { logger }),
    });
    opened.push(server);
    return server;
  }

  it.each([
    ['answers 500', 'status-500'],
    ['answers something that is not JSON', 'not-json'],
    ['serves an invalid key set', 'invalid-set'],
    ['does not answer in time', 'hang'],
  ] as const)('closes a hello with 1013 when the endpoint %s', async (_, behaviour) => {
    const server = await serverOnKeySet();
    jwks.behaviour = behaviour;
    expect(await refusal(server, await key.sign({ sub: 'alice' }))).toEqual({
      code: TRY_AGAIN_LATER,
      reason: 'key set unavailable: try again later',
    });
  });

  it('still closes a token signed by an unknown key with 4001 while the set is reachable', async () => {
    const server = await serverOnKeySet();
    const stranger = await signingKey('ES256', 'key-unknown');
    expect(await refusal(server, await stranger.sign({ sub: 'alice' }))).toEqual({
      code: CloseCode.UNAUTHORIZED,
      reason: 'no key matches the token',
    });
  });

  it('answers an update-token during the outage with INTERNAL and keeps the session open', async () => {
    const server = await serverOnKeySet();
    const { client } = await connectSession(server, await key.sign({ sub: 'alice' }));
    jwks.behaviour = 'status-500';
    client.send({ type: 'update-token', id: 1, token: await key.sign({ sub: 'alice' }, '2h') });
    expect(await client.next()).toEqual({ type: 'error', id: 1, code: 'INTERNAL', message: 'key set unavailable' });
    jwks.behaviour = 'ok';
    client.send({ type: 'update-token', id: 2, token: await key.sign({ sub: 'alice' }, '2h') });
    expect(await client.next()).toMatchObject({ type: 'token-updated', id: 2 });
    await client.close();
  });

  it('keeps verifying with the last key set fetched during an outage (stale-if-error)', async () => {
    const server = await serverOnKeySet({ staleIfErrorMs: 60_000 });
    const first = await connectSession(server, await key.sign({ sub: 'alice' }));
    jwks.behaviour = 'status-500';
    const fetchesBefore = jwks.fetches;
    const during = await connectSession(server, await key.sign({ sub: 'bob' }));
    expect(during.welcome.userId).toBe('bob');
    expect(jwks.fetches).toBeGreaterThan(fetchesBefore); // it did try the endpoint first
    await Promise.all([first.client.close(), during.client.close()]);
  });

  it('fetches at most once per retryAfterMs during an outage, refusing the hellos in between at once', async () => {
    const server = await serverOnKeySet({ retryAfterMs: 60_000 });
    jwks.behaviour = 'status-500';
    const before = jwks.fetches;
    const token = await key.sign({ sub: 'alice' });
    for (let i = 0; i < 5; i++) expect((await refusal(server, token)).code).toBe(TRY_AGAIN_LATER);
    expect(jwks.fetches - before).toBe(1);
  });

  it('logs an outage once when it starts and once when it ends, without the token', async () => {
    const lines: string[] = [];
    const record = (level: string) => (fields: unknown, message?: string) =>
      void lines.push(`${level} ${typeof fields === 'string' ? fields : `${message} ${JSON.stringify(fields)}`}`);
    const logger: Logger = { info: record('info'), warn: record('warn'), error: record('error') };
    const server = await serverOnKeySet({}, logger);
    jwks.behaviour = 'status-500';
    const token = await key.sign({ sub: 'alice' });
    for (let i = 0; i < 3; i++) expect((await refusal(server, token)).code).toBe(TRY_AGAIN_LATER);
    jwks.behaviour = 'ok';
    const { client } = await connectSession(server, token);
    await client.close();
    const outage = lines.filter((line) => line.includes('key set'));
    expect(outage).toEqual([
      expect.stringMatching(
        /^warn key set unavailable .*"jwksUrl":"http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json"/,
      ),
      expect.stringMatching(/^info key set reachable again/),
    ]);
    for (const line of lines) expect(line).not.toContain(token);
  });

  it('uses named defaults for the remote key set and refuses invalid tuning', () => {
    expect([
      DEFAULT_JWKS_TIMEOUT_MS,
      DEFAULT_JWKS_COOLDOWN_MS,
      DEFAULT_JWKS_CACHE_MAX_AGE_MS,
      DEFAULT_JWKS_STALE_IF_ERROR_MS,
      DEFAULT_JWKS_RETRY_AFTER_MS,
    ]).toEqual([5_000, 30_000, 600_000, 3_600_000, 1_000]);
    expect(() => createTokenVerifier({ jwksUrl: jwks.url, jwks: { timeoutMs: -1 } })).toThrow(TypeError);
    expect(() => createTokenVerifier({ secret: 's', jwks: {} })).toThrow('"auth.jwks" needs "auth.jwksUrl"');
  });
});

describe('auth.verify (opaque tokens, custom identity providers)', () => {
  const opened: SessionServer[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((server) => server.close()));
  });
  async function serverWith(verify: VerifyToken, extra: Partial<AuthOptions> = {}) {
    const server = await startServer({ auth: { verify, ...extra } });
    opened.push(server);
    return server;
  }

  it('welcomes with the identity it returns: roles sorted, exp in seconds, rolesClaim null', async () => {
    const exp = now() + 600;
    const server = await serverWith(async (token) => ({ sub: `user-of-${token}`, roles: ['b', 'a', 'b'], exp }));
    const { client, welcome } = await connectSession(server, 'opaque');
    expect(welcome).toMatchObject({
      userId: 'user-of-opaque',
      roles: ['a', 'b'],
      expiresAt: exp * 1000,
      rolesClaim: null,
    });
    client.send({ type: 'update-token', id: 1, token: 'opaque-2' });
    expect(await client.next()).toMatchObject({ type: 'error', id: 1, code: 'USER_MISMATCH' });
    await client.close();
  });

  it('closes the session with 4002 at the exp it returned', async () => {
    const server = await serverWith(async () => ({ sub: 'alice', exp: now() + 1 }));
    const { client } = await connectSession(server, 'short-lived');
    expect(await client.closed).toEqual({ code: CloseCode.TOKEN_EXPIRED, reason: 'token expired' });
  });

  it('carries new roles and expiry in token-updated, and closes with 4003 when the roles change', async () => {
    const roles = new Map([
      ['t1', ['member']],
      ['t2', ['member']],
      ['t3', ['admin']],
    ]);
    const server = await serverWith(async (token) => ({
      sub: 'alice',
      roles: roles.get(token) ?? [],
      exp: now() + 3600,
    }));
    const { client } = await connectSession(server, 't1');
    client.send({ type: 'update-token', id: 1, token: 't2' });
    expect(await client.next()).toEqual({
      type: 'token-updated',
      id: 1,
      roles: ['member'],
      expiresAt: expect.any(Number),
    });
    client.send({ type: 'update-token', id: 2, token: 't3' });
    expect(await client.next()).toMatchObject({ type: 'error', id: 2, code: 'ROLES_MISMATCH' });
    expect((await client.closed).code).toBe(CloseCode.ROLES_MISMATCH);
    expect(server.stats().refreshes).toBe(1);
  });

  it.each([
    ['it throws', async () => Promise.reject(new Error('no such session')), CloseCode.UNAUTHORIZED, 'token refused'],
    ['it returns no sub', async () => ({ sub: '' }), CloseCode.UNAUTHORIZED, 'auth.verify returned no "sub"'],
    [
      'it returns roles that are not strings',
      async () => ({ sub: 'a', roles: [1] as unknown as string[] }),
      CloseCode.UNAUTHORIZED,
      'auth.verify returned "roles" that are not strings',
    ],
    ['it returns a past exp', async () => ({ sub: 'a', exp: now() - 10 }), CloseCode.UNAUTHORIZED, 'token expired'],
    [
      'it throws a SessionError INTERNAL (its outage)',
      async () => Promise.reject(new SessionError('INTERNAL', 'user service down')),
      TRY_AGAIN_LATER,
      'user service down: try again later',
    ],
    ['it never answers', () => new Promise<never>(() => {}), TRY_AGAIN_LATER, 'token check timed out: try again later'],
  ] as const)('closes a hello when %s', async (_, verify, code, reason) => {
    const server = await serverWith(verify as VerifyToken, { verifyTimeoutMs: 100 });
    expect(await refusal(server, 'opaque')).toEqual({ code, reason });
  });

  it('applies clockTolerance to the exp it returns', async () => {
    const server = await serverWith(async () => ({ sub: 'alice', exp: now() - 5 }), { clockTolerance: 60 });
    const { client } = await connectSession(server, 'skewed');
    await client.close();
  });

  it.each([
    ['rolesClaim', { rolesClaim: 'roles' }],
    ['issuer', { issuer: 'x' }],
    ['a secret as well', { secret: 'x' }],
  ])('refuses auth.verify with %s (a TypeError)', (_, extra) => {
    expect(() => createTokenVerifier({ verify: async () => ({ sub: 'a' }), ...extra })).toThrow(TypeError);
  });
});

describe('clockTolerance', () => {
  it('is the spec name; clockToleranceSec stays as a deprecated alias; both must agree', async () => {
    const token = await mint({ exp: now() - 5 });
    await expect(createTokenVerifier({ secret: SECRET, clockTolerance: 30 }).verify(token)).resolves.toMatchObject({
      userId: 'alice',
    });
    await expect(createTokenVerifier({ secret: SECRET, clockToleranceSec: 30 }).verify(token)).resolves.toMatchObject({
      userId: 'alice',
    });
    await expect(createTokenVerifier({ secret: SECRET }).verify(token)).rejects.toMatchObject({
      code: 'TOKEN_EXPIRED',
    });
    expect(() => createTokenVerifier({ secret: SECRET, clockTolerance: 1, clockToleranceSec: 2 })).toThrow(TypeError);
    expect(() => createTokenVerifier({ secret: SECRET, clockTolerance: -1 })).toThrow(TypeError);
  });
});
