import { SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { UnauthorizedError } from '../../../src/errors/index.js';
import {
  decodeTokenClaims,
  identityFromClaims,
  isExpired,
  readClaim,
  rolesFromClaim,
  sameRoles,
} from '../../../src/shared/token-claims.js';

const secret = new TextEncoder().encode('unit-test-secret');
const sign = (claims: Record<string, unknown>, exp?: number) => {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('alice');
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return jwt.sign(secret);
};

describe('decodeTokenClaims', () => {
  it('reads sub, sorted unique roles and exp in milliseconds', async () => {
    const token = await sign({ roles: ['writer', 'admin', 'writer'] }, 2_000_000_000);
    expect(decodeTokenClaims(token)).toEqual({
      userId: 'alice',
      roles: ['admin', 'writer'],
      expiresAt: 2_000_000_000_000,
      notBefore: null,
    });
  });

  it('reads roles from a configured claim and a space-separated string', async () => {
    const token = await sign({ scope: 'read write' });
    expect(decodeTokenClaims(token, 'scope').roles).toEqual(['read', 'write']);
  });

  it('treats a token without exp as never expiring', async () => {
    expect(decodeTokenClaims(await sign({})).expiresAt).toBeNull();
  });

  it.each([['not-a-jwt'], [''], ['a.b.c'], [42], [undefined]])('refuses %j with UnauthorizedError', (value) => {
    expect(() => decodeTokenClaims(value)).toThrow(UnauthorizedError);
  });

  it('refuses alg none', () => {
    const token = new UnsecuredJWT({ sub: 'alice' }).encode();
    expect(() => decodeTokenClaims(token)).toThrow(/alg/);
  });

  it('refuses a token without sub', async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    expect(() => decodeTokenClaims(token)).toThrow(/sub/);
  });
});

describe('roles and expiry helpers', () => {
  it('compares role lists as sets', () => {
    expect(sameRoles(rolesFromClaim(['b', 'a']), rolesFromClaim(['a', 'b', 'a']))).toBe(true);
    expect(sameRoles(rolesFromClaim(['a']), rolesFromClaim(['a', 'b']))).toBe(false);
  });

  it('ignores roles that are not strings', () => {
    expect(rolesFromClaim(['a', 1, null, ''])).toEqual(['a']);
    expect(rolesFromClaim({ admin: true })).toEqual([]);
  });

  it('never expires a null expiry and expires at exp exactly', () => {
    expect(isExpired(null, Number.MAX_SAFE_INTEGER)).toBe(false);
    expect(isExpired(1000, 999)).toBe(false);
    expect(isExpired(1000, 1000)).toBe(true);
  });
});

describe('claims mapping shared by host and server', () => {
  it('reads roles from a nested dot path (Keycloak realm_access.roles, Supabase app_metadata.roles)', () => {
    expect(identityFromClaims({ sub: 'a', realm_access: { roles: ['b', 'a'] } }, 'realm_access.roles').roles).toEqual([
      'a',
      'b',
    ]);
    expect(identityFromClaims({ sub: 'a', app_metadata: { roles: 'x y' } }, 'app_metadata.roles').roles).toEqual([
      'x',
      'y',
    ]);
  });

  it('reads a URL claim whole before trying it as a path (Auth0 namespaced claims)', () => {
    expect(readClaim({ 'https://example.com/roles': ['admin'] }, 'https://example.com/roles')).toEqual(['admin']);
  });

  it('never walks into inherited or array properties', () => {
    expect(readClaim({ a: [1, 2] }, 'a.length')).toBeUndefined();
    expect(readClaim({ a: {} }, 'a.constructor')).toBeUndefined();
    expect(readClaim({}, '__proto__.toString')).toBeUndefined();
  });

  it('refuses a missing or non-string sub with UNAUTHORIZED', () => {
    expect(() => identityFromClaims({ sub: 42 })).toThrow(UnauthorizedError);
    expect(() => identityFromClaims({})).toThrow(/sub/);
  });
});
