import { SignJWT, type JWTPayload } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../../../src/protocol/close-codes.js';
import type { AuthOptions } from '../../../../src/server/index.js';
import { startServer, TestClient } from '../helpers.js';
import { JwksServer, signingKey } from '../jwks-server.js';

/**
 * The recipes of docs/identity-providers.md, each with its provider's claim shapes, keys the test
 * generates, and the key set served at the provider's path from a local server.
 */
interface Recipe {
  name: string;
  alg: 'RS256' | 'ES256';
  jwksPath: string;
  /** The recipe's `auth`, without `jwksUrl` (the local server's). */
  auth: Omit<AuthOptions, 'jwksUrl'>;
  claims: JWTPayload;
  expected: { userId: string; roles: string[] };
}

const recipes: Recipe[] = [
  {
    name: 'Auth0 (namespaced URL claim set by an Action)',
    alg: 'RS256',
    jwksPath: '/.well-known/jwks.json',
    auth: {
      issuer: 'https://tenant.eu.auth0.com/',
      audience: 'https://api.example.com',
      rolesClaim: 'https://example.com/roles',
    },
    claims: {
      iss: 'https://tenant.eu.auth0.com/',
      aud: ['https://api.example.com', 'https://tenant.eu.auth0.com/userinfo'],
      sub: 'auth0|64f1c0ffee',
      azp: 'spa-client-id',
      scope: 'openid profile email',
      permissions: ['read:room'],
      'https://example.com/roles': ['editor', 'admin'],
    },
    expected: { userId: 'auth0|64f1c0ffee', roles: ['admin', 'editor'] },
  },
  {
    name: 'Clerk (session token customised with the public metadata)',
    alg: 'RS256',
    jwksPath: '/.well-known/jwks.json',
    auth: { issuer: 'https://clerk.example.com', rolesClaim: 'metadata.roles', clockTolerance: 5 },
    claims: {
      iss: 'https://clerk.example.com',
      sub: 'user_2NNEqL2nrIRdJ194ndJqAHwEfxC',
      azp: 'https://app.example.com',
      sid: 'sess_2NNEqL2nrIRdJ194ndJqAHwEfxC',
      metadata: { roles: ['member'] },
    },
    expected: { userId: 'user_2NNEqL2nrIRdJ194ndJqAHwEfxC', roles: ['member'] },
  },
  {
    name: 'Supabase (asymmetric ES256 signing keys, roles in app_metadata)',
    alg: 'ES256',
    jwksPath: '/auth/v1/.well-known/jwks.json',
    auth: {
      issuer: 'https://abcdefgh.supabase.co/auth/v1',
      audience: 'authenticated',
      rolesClaim: 'app_metadata.roles',
    },
    claims: {
      iss: 'https://abcdefgh.supabase.co/auth/v1',
      aud: 'authenticated',
      sub: '8d5c6e2a-6f0e-4b7b-9c55-3a1f4e2d9b10',
      role: 'authenticated',
      email: 'ada@example.com',
      app_metadata: { provider: 'email', providers: ['email'], roles: ['staff'] },
      user_metadata: {},
    },
    expected: { userId: '8d5c6e2a-6f0e-4b7b-9c55-3a1f4e2d9b10', roles: ['staff'] },
  },
  {
    name: 'Keycloak (realm roles)',
    alg: 'RS256',
    jwksPath: '/realms/myrealm/protocol/openid-connect/certs',
    auth: { issuer: 'https://kc.example.com/realms/myrealm', audience: 'my-app', rolesClaim: 'realm_access.roles' },
    claims: {
      iss: 'https://kc.example.com/realms/myrealm',
      aud: ['my-app', 'account'],
      sub: 'f1b2c3d4-0000-4000-8000-000000000001',
      typ: 'Bearer',
      azp: 'my-app',
      realm_access: { roles: ['offline_access', 'uma_authorization', 'member'] },
      resource_access: { account: { roles: ['manage-account'] } },
    },
    expected: {
      userId: 'f1b2c3d4-0000-4000-8000-000000000001',
      roles: ['member', 'offline_access', 'uma_authorization'],
    },
  },
  {
    name: 'Firebase Authentication (ID token with custom claims)',
    alg: 'RS256',
    jwksPath: '/service_accounts/v1/jwk/securetoken@system.gserviceaccount.com',
    auth: { issuer: 'https://securetoken.google.com/my-project', audience: 'my-project', rolesClaim: 'roles' },
    claims: {
      iss: 'https://securetoken.google.com/my-project',
      aud: 'my-project',
      sub: 'Kx9e0tUq3ZbWm2Gm1cS5p8JtYxA2',
      user_id: 'Kx9e0tUq3ZbWm2Gm1cS5p8JtYxA2',
      auth_time: Math.floor(Date.now() / 1000) - 60,
      firebase: { identities: { email: ['ada@example.com'] }, sign_in_provider: 'password' },
      roles: ['admin'],
    },
    expected: { userId: 'Kx9e0tUq3ZbWm2Gm1cS5p8JtYxA2', roles: ['admin'] },
  },
];

const servers: Array<{ close(): Promise<void> }> = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

describe.each(recipes)('identity provider recipe: $name', (recipe) => {
  it('welcomes its tokens with the user and roles the recipe reads, and rolesClaim for the host', async () => {
    const key = await signingKey(recipe.alg);
    const jwks = await JwksServer.start(recipe.jwksPath);
    jwks.keys.push(key.jwk);
    const server = await startServer({ auth: { ...recipe.auth, jwksUrl: jwks.url } });
    servers.push(jwks, server);

    const client = await TestClient.connect(server.url);
    const welcome = await client.hello(await key.sign(recipe.claims));
    expect(welcome).toMatchObject({ type: 'welcome', ...recipe.expected, rolesClaim: recipe.auth.rolesClaim });
    client.send({ type: 'update-token', id: 1, token: await key.sign(recipe.claims, '2h') });
    expect(await client.next()).toMatchObject({ type: 'token-updated', id: 1, roles: recipe.expected.roles });
    await client.close();

    // The same shape from another issuer (or signed by a key the set does not hold) is refused.
    const stranger = await signingKey(recipe.alg, key.kid);
    const forged = await TestClient.connect(server.url);
    forged.send({ type: 'hello', protocol: 1, token: await stranger.sign(recipe.claims), sessionId: 'forged' });
    expect((await forged.closed).code).toBe(CloseCode.UNAUTHORIZED);
    if (recipe.auth.issuer !== undefined) {
      const other = await TestClient.connect(server.url);
      const claims = { ...recipe.claims, iss: 'https://issuer.evil.example/' };
      other.send({ type: 'hello', protocol: 1, token: await key.sign(claims), sessionId: 'other-issuer' });
      expect(await other.closed).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'token issuer not accepted' });
    }
  });
});

describe('identity provider recipe: Supabase with the legacy HS256 JWT secret', () => {
  it('reads app_metadata.roles from a token signed with the project secret', async () => {
    const secret = 'super-secret-jwt-token-with-at-least-32-characters-long';
    const server = await startServer({
      auth: { secret, audience: 'authenticated', rolesClaim: 'app_metadata.roles' },
    });
    servers.push(server);
    const token = await new SignJWT({ aud: 'authenticated', role: 'authenticated', app_metadata: { roles: ['staff'] } })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('8d5c6e2a-6f0e-4b7b-9c55-3a1f4e2d9b10')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode(secret));
    const client = await TestClient.connect(server.url);
    expect(await client.hello(token)).toMatchObject({
      type: 'welcome',
      roles: ['staff'],
      rolesClaim: 'app_metadata.roles',
    });
    await client.close();
  });
});

describe('identity provider recipe: opaque tokens (Auth0 without an audience, database sessions) with auth.verify', () => {
  it('asks the app, takes sub, roles and exp from its answer, and reports rolesClaim null', async () => {
    const sessions = new Map([
      ['opaque-token-1', { userId: 'auth0|1', roles: ['member', 'admin'], exp: Math.floor(Date.now() / 1000) + 3600 }],
    ]);
    const server = await startServer({
      auth: {
        verify: async (token) => {
          const session = sessions.get(token);
          if (session === undefined) throw new Error('unknown session token');
          return { sub: session.userId, roles: session.roles, exp: session.exp };
        },
      },
    });
    servers.push(server);
    const client = await TestClient.connect(server.url);
    expect(await client.hello('opaque-token-1')).toMatchObject({
      type: 'welcome',
      userId: 'auth0|1',
      roles: ['admin', 'member'],
      expiresAt: sessions.get('opaque-token-1')!.exp * 1000,
      rolesClaim: null,
    });
    await client.close();
  });
});
