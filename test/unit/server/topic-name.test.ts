import { afterEach, describe, expect, it } from 'vitest';
import { parseClientMessage } from '../../../src/protocol/parse.js';
import { MAX_TOPIC_LENGTH, validateTopicName } from '../../../src/protocol/topic-name.js';
import type { SessionServer } from '../../../src/server/index.js';
import { connectSession, mint, startServer } from './helpers.js';

/** Control characters of every range `\p{Cc}` covers: C0 (NUL, tab, newline, ESC), DEL, C1. */
const CONTROL_CHARACTERS = ['\u0000', '\t', '\n', '\u001b', '\u007f', '\u0085', '\u009f'];

describe('validateTopicName', () => {
  it('accepts printable names up to MAX_TOPIC_LENGTH, non-ASCII and paired surrogates included', () => {
    for (const name of ['news', 'user:alice', 'a b/c', 'é', '数据', '😀 chat', 'x'.repeat(MAX_TOPIC_LENGTH)]) {
      expect(validateTopicName(name), name).toBeUndefined();
    }
  });

  it('refuses a non-string, an empty name and one longer than MAX_TOPIC_LENGTH', () => {
    for (const name of [undefined, 42, '', 'x'.repeat(MAX_TOPIC_LENGTH + 1)]) {
      expect(validateTopicName(name)).toBe(`"topic" must be a string of 1–${MAX_TOPIC_LENGTH} characters`);
    }
  });

  it('refuses control characters: C0, DEL and C1', () => {
    for (const control of CONTROL_CHARACTERS) {
      expect(validateTopicName(`news${control}`), JSON.stringify(control)).toBe(
        '"topic" must not contain control characters',
      );
    }
  });

  it('refuses lone surrogates', () => {
    for (const name of ['a\ud800', '\udc00b', 'x\ud83d']) {
      expect(validateTopicName(name)).toBe('"topic" must be well-formed UTF-16 (no lone surrogates)');
    }
  });

  it('lets a store relax the length and every control character but NUL', () => {
    const store = { maxLength: Infinity, refuseControl: 'nul' } as const;
    expect(validateTopicName('x'.repeat(MAX_TOPIC_LENGTH * 4), store)).toBeUndefined();
    expect(validateTopicName('a\u0001b', store)).toBeUndefined();
    expect(validateTopicName('a\u0000b', store)).toBe('"topic" must not contain NUL characters');
    expect(validateTopicName('a\ud800', store)).toMatch(/lone surrogates/);
  });
});

describe('topic names with control characters', () => {
  let server: SessionServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('are refused by the wire parser in subscribe, unsubscribe and publish, with the request id', () => {
    for (const control of CONTROL_CHARACTERS) {
      const topic = `news${control}`;
      for (const frame of [
        { type: 'subscribe', id: 7, topic, after: 0 },
        { type: 'unsubscribe', topic },
        { type: 'publish', id: 7, topic, clientId: 'c1', data: 1 },
      ]) {
        const parsed = parseClientMessage(JSON.stringify(frame));
        expect(parsed, `${frame.type} ${JSON.stringify(topic)}`).toMatchObject({
          ok: false,
          reason: '"topic" must not contain control characters',
        });
        if ('id' in frame) expect(parsed).toMatchObject({ id: 7 });
      }
    }
  });

  it('are answered BAD_MESSAGE by the server, which stores and subscribes nothing', async () => {
    server = await startServer();
    const { client } = await connectSession(server, await mint());
    client.send({ type: 'subscribe', id: 1, topic: 'news\u0085', after: 0 });
    client.send({ type: 'publish', id: 2, topic: 'news\u007f', clientId: 'c1', data: 1 });
    expect(await client.next()).toMatchObject({ type: 'error', id: 1, code: 'BAD_MESSAGE' });
    expect(await client.next()).toMatchObject({ type: 'error', id: 2, code: 'BAD_MESSAGE' });
    expect(server.stats()).toMatchObject({ subscriptions: 0, changesStored: 0 });
    await client.close();
  });

  it('are refused by server.publish with a TypeError', async () => {
    server = await startServer();
    for (const control of CONTROL_CHARACTERS) {
      await expect(server.publish(`news${control}`, 1)).rejects.toThrow(TypeError);
    }
    expect(server.stats().changesStored).toBe(0);
  });
});
