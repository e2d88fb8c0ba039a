import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import { createTokenVerifier, type SessionServer } from '../../../src/server/index.js';
import { connectSession, mint, SECRET, startServer, TestClient } from './helpers.js';

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

  it('tolerates clock skew up to clockToleranceSec', async () => {
    const verifier = createTokenVerifier({ secret: SECRET, clockToleranceSec: 30 });
    await expect(verifier.verify(await mint({ exp: now() - 5 }))).resolves.toMatchObject({ userId: 'alice' });
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

describe('an unreachable JWKS', () => {
  it('closes with 1013 (try again later), not with the fatal 4001, when the key set cannot be fetched', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));
    const server = await startServer({ auth: { jwksUrl: `http://127.0.0.1:${port}/jwks.json` } });
    const { privateKey } = await generateKeyPair('RS256');
    const token = await new SignJWT({ sub: 'a' }).setProtectedHeader({ alg: 'RS256', kid: 'k' }).sign(privateKey);
    expect(await refusal(server, token)).toEqual({ code: 1013, reason: 'key set unavailable: try again later' });
    await server.close();
  });
});
