import { describe, expect, it } from 'vitest';
import { exceedsJsonDepth, parseClientMessage, parseServerMessage } from '../../../src/protocol/parse.js';

describe('parseClientMessage', () => {
  it('accepts a well-formed hello and keeps only known fields', () => {
    const result = parseClientMessage(
      JSON.stringify({ type: 'hello', protocol: 1, token: 't', sessionId: 's', schemaVersion: 2, extra: 'x' }),
    );
    expect(result).toEqual({
      ok: true,
      message: { type: 'hello', protocol: 1, token: 't', sessionId: 's', schemaVersion: 2 },
    });
  });

  it.each([
    ['not json', /JSON/],
    ['[1,2]', /object/],
    ['null', /object/],
    ['{"no":"type"}', /type/],
    ['{"type":"launch-missiles"}', /unknown message type/],
    ['{"type":"hello","protocol":1}', /token/],
    ['{"type":"update-token","id":-1,"token":"x"}', /id/],
    ['{"type":"subscribe","id":1,"topic":"","after":0}', /topic/],
    ['{"type":"publish","id":1,"topic":"t","clientId":"c"}', /data/],
  ])('refuses %s with a reason', (raw, reason) => {
    const result = parseClientMessage(raw);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });

  it('returns the request id of a malformed request so the error can answer it', () => {
    expect(parseClientMessage('{"type":"update-token","id":7}')).toMatchObject({ ok: false, id: 7 });
  });
});

describe('parseServerMessage', () => {
  it('accepts a welcome and refuses a malformed one', () => {
    const welcome = {
      type: 'welcome',
      protocol: 1,
      sessionId: 's',
      userId: 'u',
      roles: [],
      expiresAt: null,
      serverTime: 1,
      resumed: false,
    };
    expect(parseServerMessage(JSON.stringify(welcome)).ok).toBe(true);
    expect(parseServerMessage(JSON.stringify({ ...welcome, roles: 'x' })).ok).toBe(false);
  });

  it('refuses unknown types instead of passing them on', () => {
    expect(parseServerMessage('{"type":"surprise"}').ok).toBe(false);
  });
});

describe('exceedsJsonDepth', () => {
  const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
  it('counts levels exactly on both sides of the limit, short texts and long', () => {
    for (const limit of [1, 2, 3, 64, 1024]) {
      expect(exceedsJsonDepth(nested(limit), limit)).toBe(false);
      expect(exceedsJsonDepth(nested(limit + 1), limit)).toBe(true);
      // Longer than the limit but not as deep: the pass runs and finds no excess.
      expect(exceedsJsonDepth(`[${'1,'.repeat(limit)}1]`, limit)).toBe(false);
    }
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(exceedsJsonDepth(JSON.stringify(['[[[[', '\\"{{{{']), 1)).toBe(false);
  });

  it('refuses a deep server frame in parseServerMessage and reads a long shallow one', () => {
    expect(parseServerMessage(`{"type":"change","data":${nested(2000)}}`)).toMatchObject({ ok: false });
    const long = JSON.stringify({ type: 'change', topic: 't', seq: 1, publishedAt: 1, data: 'x'.repeat(5000) });
    expect(parseServerMessage(long)).toMatchObject({ ok: true });
  });
});

describe('parseClientMessage ids', () => {
  it('keeps the id of a frame without a type', () => {
    expect(parseClientMessage('{"id":3}')).toMatchObject({ ok: false, id: 3, reason: expect.stringMatching(/type/) });
  });
});

describe('measureJson', () => {
  it('measures UTF-8 bytes the way an encoder does', async () => {
    const { measureJson } = await import('../../../src/shared/json-size.js');
    for (const value of ['plain', 'ünïcödé', '日本語', '😀 emoji', { nested: ['€', 1, null] }]) {
      const measured = measureJson(value);
      expect(measured).toMatchObject({ ok: true });
      if (measured.ok) expect(measured.bytes).toBe(new TextEncoder().encode(measured.json).length);
    }
  });

  it('refuses what is not a JSON value', async () => {
    const { measureJson } = await import('../../../src/shared/json-size.js');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const value of [undefined, () => 1, 10n, cycle]) expect(measureJson(value).ok).toBe(false);
  });
});
