import { describe, expect, it } from 'vitest';
import { SessionError, TokenExpiredError, UnauthorizedError } from '../../../src/errors/index.js';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import { MAX_CLOSE_REASON_BYTES } from '../../../src/server/index.js';
import {
  helloRefusal,
  negotiateProtocol,
  schemaRefusal,
  SERVED_PROTOCOLS,
  TRY_AGAIN_LATER,
  updateIdentityRefusal,
  updateVerificationRefusal,
} from '../../../src/server/session/handshake.js';

const session = { userId: 'alice', roles: ['reader', 'writer'] };

describe('negotiateProtocol', () => {
  const range = { min: 2, max: 4 };

  it('speaks every version of the served range in the version the client announced', () => {
    for (const version of [2, 3, 4]) expect(negotiateProtocol(version, range)).toEqual({ protocol: version });
  });

  it('refuses an older client with 4006, saying the client is too old', () => {
    expect(negotiateProtocol(1, range)).toEqual({
      refusal: { code: CloseCode.UNSUPPORTED_PROTOCOL, reason: 'client too old: wire protocol 1, server serves 2–4' },
    });
  });

  it('refuses a newer client with 4006, saying the server is too old', () => {
    expect(negotiateProtocol(5, range)).toEqual({
      refusal: {
        code: CloseCode.UNSUPPORTED_PROTOCOL,
        reason: 'server too old: client wire protocol 5, server serves 2–4',
      },
    });
  });

  it('keeps every refusal within a close reason, even for a huge version number', () => {
    for (const version of [0, Number.MAX_SAFE_INTEGER]) {
      const result = negotiateProtocol(version);
      if (!('refusal' in result)) throw new Error(`version ${version} accepted`);
      expect(new TextEncoder().encode(result.refusal.reason).length).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    }
  });

  it('serves the range of src/protocol/version.ts by default', () => {
    expect(negotiateProtocol(SERVED_PROTOCOLS.max)).toEqual({ protocol: SERVED_PROTOCOLS.max });
    expect(negotiateProtocol(SERVED_PROTOCOLS.min)).toEqual({ protocol: SERVED_PROTOCOLS.min });
  });
});

describe('refusals of hello and update-token', () => {
  it('closes a hello with 1013 when the key set is unavailable and with 4001 for a refused token', () => {
    expect(helloRefusal(new SessionError('INTERNAL', 'key set unavailable'))).toEqual({
      code: TRY_AGAIN_LATER,
      reason: 'key set unavailable: try again later',
    });
    expect(helloRefusal(new UnauthorizedError('token signature invalid'))).toEqual({
      code: CloseCode.UNAUTHORIZED,
      reason: 'token signature invalid',
    });
    expect(helloRefusal(new Error('surprise'))).toEqual({ code: CloseCode.UNAUTHORIZED, reason: 'token refused' });
  });

  it('refuses an unserved schema version with 4004 and accepts a served or undeclared one', () => {
    const served = new Set([2, 3]);
    expect(schemaRefusal(1, served)).toEqual({
      code: CloseCode.SCHEMA_MISMATCH,
      reason: 'schema version 1 not served (serves 2, 3)',
    });
    expect(schemaRefusal(3, served)).toBeUndefined();
    expect(schemaRefusal(undefined, served)).toBeUndefined();
    expect(schemaRefusal(1, undefined)).toBeUndefined();
  });

  it('maps a failed token update to TOKEN_EXPIRED, INTERNAL or UNAUTHORIZED', () => {
    expect(updateVerificationRefusal(new TokenExpiredError('token expired'))).toEqual({
      code: 'TOKEN_EXPIRED',
      message: 'token expired',
    });
    expect(updateVerificationRefusal(new SessionError('INTERNAL', 'key set unavailable')).code).toBe('INTERNAL');
    expect(updateVerificationRefusal(new UnauthorizedError('token audience not accepted')).code).toBe('UNAUTHORIZED');
    expect(updateVerificationRefusal(new Error('surprise'))).toEqual({
      code: 'UNAUTHORIZED',
      message: 'token refused',
    });
  });

  it('refuses a token update for another user or with other roles, and accepts the same identity', () => {
    const token = { userId: 'alice', roles: ['reader', 'writer'], expiresAt: null };
    expect(updateIdentityRefusal(session, token)).toBeUndefined();
    expect(updateIdentityRefusal(session, { ...token, userId: 'bob' })?.code).toBe('USER_MISMATCH');
    expect(updateIdentityRefusal(session, { ...token, roles: ['reader'] })?.code).toBe('ROLES_MISMATCH');
  });
});
