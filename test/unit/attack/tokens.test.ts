import { createHmac, createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import type { SessionServer } from '../../../src/server/index.js';
import { connectSession, startServer, TestClient } from '../server/helpers.js';

// Issue 10, the token attack matrix: every forged, tampered or out-of-range token is refused at
// hello with the close code of its kind, and no header makes the server fetch anything.

const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

async function closeOf(server: SessionServer, token: string) {
  const client = await TestClient.connect(server.url);
  client.send({ type: 'hello', protocol: 1, token, sessionId: 'attack' });
  return client.closed;
}

describe('token attack matrix (RS256 public key and a JWKS URL)', () => {
  let privateKey: CryptoKey;
  let otherKey: CryptoKey;
  let pem: string;
  let jwk: JWK;
  let keyServer: Server;
  let fetched: string[];
  let byKey: SessionServer;
  let byJwks: SessionServer;
  const claims = { sub: 'alice', iss: 'https://issuer.test', aud: 'app' };
  const auth = { issuer: 'https://issuer.test', audience: 'app' };

  const sign = (payload: Record<string, unknown>, header: Record<string, unknown> = {}, key = privateKey) => {
    const jwt = new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'k1', ...header } as { alg: string });
    return ('exp' in payload ? jwt : jwt.setExpirationTime(now() + 600)).sign(key);
  };
  /** Signs any header as is (jose refuses to sign a crit it does not know). */
  const signRaw = (header: Record<string, unknown>, payload: Record<string, unknown>) => {
    const input = `${b64({ alg: 'RS256', kid: 'k1', ...header })}.${b64({ exp: now() + 600, ...payload })}`;
    return `${input}.${createSign('RSA-SHA256').update(input).sign(pkcs8, 'base64url')}`;
  };
  let pkcs8: KeyObject;

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    pkcs8 = createPrivateKey(await exportPKCS8(pair.privateKey));
    otherKey = (await generateKeyPair('RS256')).privateKey;
    pem = await exportSPKI(pair.publicKey);
    jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256' };
    fetched = [];
    keyServer = createServer((req, res) => {
      fetched.push(req.url ?? '');
      res.end(req.url === '/jwks' ? JSON.stringify({ keys: [jwk] }) : '{"keys":[]}');
    });
    await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
    const { port } = keyServer.address() as AddressInfo;
    byKey = await startServer({ auth: { publicKey: pem, ...auth } });
    byJwks = await startServer({ auth: { jwksUrl: `http://127.0.0.1:${port}/jwks`, ...auth } });
  });
  afterAll(async () => {
    await Promise.all([byKey?.close(), byJwks?.close()]);
    keyServer?.close();
  });

  it('accepts a genuine token on both servers (the control case)', async () => {
    for (const server of [byKey, byJwks]) {
      const { client, welcome } = await connectSession(server, await sign(claims));
      expect(welcome.userId).toBe('alice');
      await client.close();
    }
  });

  const attacks: Array<[string, () => Promise<string>]> = [
    ['alg none', async () => new UnsecuredJWT(claims).setExpirationTime(now() + 600).encode()],
    [
      'HS256 signed with the PEM as the HMAC secret (algorithm confusion)',
      async () => {
        const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ ...claims, exp: now() + 600 })}`;
        return `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
      },
    ],
    [
      'a tampered payload (sub changed after signing)',
      async () => {
        const [header, , signature] = (await sign(claims)).split('.');
        return `${header}.${b64({ ...claims, sub: 'admin', exp: now() + 600 })}.${signature}`;
      },
    ],
    ['a token signed by another key', () => sign(claims, {}, otherKey)],
    ['an expired token', () => sign({ ...claims, exp: now() - 60 })],
    ['an nbf in the future', () => sign({ ...claims, nbf: now() + 3600 })],
    ['a wrong issuer', () => sign({ ...claims, iss: 'https://evil.test' })],
    ['a wrong audience', () => sign({ ...claims, aud: 'other' })],
    ['no sub', () => sign({ iss: claims.iss, aud: claims.aud })],
    ['a non-string sub', () => sign({ ...claims, sub: 42 })],
    ['an empty sub', () => sign({ ...claims, sub: '' })],
    ['a crit header naming an unknown extension', async () => signRaw({ crit: ['x-unknown'], 'x-unknown': 1 }, claims)],
    [
      'a token over maxTokenBytes (12.5 KiB of claims, 17 KiB encoded)',
      () => sign({ ...claims, pad: 'p'.repeat(12_800) }),
    ],
    ['a truncated signature', async () => (await sign(claims)).slice(0, -10)],
    ['garbage in three parts', async () => 'e30.e30.e30'],
  ];

  it.each(attacks)('refuses %s with 4001 (public key)', async (_, token) => {
    expect((await closeOf(byKey, await token())).code).toBe(CloseCode.UNAUTHORIZED);
  });

  it.each(attacks)('refuses %s with 4001 (JWKS)', async (_, token) => {
    expect((await closeOf(byJwks, await token())).code).toBe(CloseCode.UNAUTHORIZED);
  });

  it.each([
    ['an unknown kid', { kid: 'no-such-key' }],
    ['a kid that looks like a path', { kid: '../../etc/passwd' }],
    ['a kid that is not a string', { kid: 7 }],
  ])('refuses a JWKS token with %s with 4001', async (_, header) => {
    expect((await closeOf(byJwks, await sign(claims, header))).code).toBe(CloseCode.UNAUTHORIZED);
  });

  it('closes a hello carrying a token larger than the pre-hello budget with 4009, before reading it', async () => {
    const huge = await sign({ ...claims, pad: 'p'.repeat(64 * 1024) });
    for (const server of [byKey, byJwks]) expect((await closeOf(server, huge)).code).toBe(CloseCode.MESSAGE_TOO_LARGE);
  });

  it('never fetches jku or x5u URLs from a token header', async () => {
    const { port } = keyServer.address() as AddressInfo;
    const before = fetched.length;
    const headers = [
      { jku: `http://127.0.0.1:${port}/attacker-jku` },
      { x5u: `http://127.0.0.1:${port}/attacker-x5u` },
    ];
    for (const header of headers) {
      const forged = await sign(claims, header, otherKey);
      expect((await closeOf(byKey, forged)).code).toBe(CloseCode.UNAUTHORIZED);
      expect((await closeOf(byJwks, forged)).code).toBe(CloseCode.UNAUTHORIZED);
    }
    expect(fetched.slice(before).filter((url) => url.startsWith('/attacker'))).toEqual([]);
  });

  it('never puts the token in the close reason', async () => {
    const token = await sign({ ...claims, exp: now() - 60 });
    const { reason } = await closeOf(byKey, token);
    expect(reason).not.toContain(token.split('.')[1]!);
  });
});
