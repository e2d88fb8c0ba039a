import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { CloseCode } from '../../../src/protocol/close-codes.js';
import {
  createMemorySessionRegistry,
  type SessionServer,
  type SessionServerOptions,
} from '../../../src/server/index.js';
import { compilePermissions } from '../../../src/server/topics/permissions.js';
import { connectSession, mint, startServer, TestClient } from '../server/helpers.js';
import { changes, expectNothingBeforePong, publish, range, subscribe } from '../server/topic-helpers.js';

// Issue 10: the holes a signed-in user could use, each reproduced against a live server.

let server: SessionServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(options: Partial<SessionServerOptions> = {}): Promise<SessionServer> {
  server = await startServer(options);
  return server;
}

describe('caps', () => {
  it('closes a user’s socket past maxSocketsPerUser with 4011; other users are not affected', async () => {
    const s = await start({ limits: { maxSocketsPerUser: 2 } });
    const token = await mint({ sub: 'mallory' });
    const open = [await connectSession(s, token), await connectSession(s, token)];
    const third = await TestClient.connect(s.url);
    third.send({ type: 'hello', protocol: 1, token, sessionId: randomUUID() });
    expect(await third.closed).toEqual({
      code: CloseCode.TOO_MANY_SOCKETS,
      reason: 'too many sockets for this user (limit 2)',
    });
    const other = await connectSession(s, await mint({ sub: 'alice' }));
    await open[0]!.client.close();
    const again = await connectSession(s, token); // a slot freed up
    await Promise.all([open[1]!.client.close(), other.client.close(), again.client.close()]);
  });

  it('refuses a subscribe past maxSubscriptionsPerConnection with TOO_MANY_SUBSCRIPTIONS, nothing subscribed', async () => {
    const s = await start({ limits: { maxSubscriptionsPerConnection: 3 } });
    const { client } = await connectSession(s, await mint());
    for (const id of [1, 2, 3]) expect(await subscribe(client, id, `t${id}`)).toMatchObject({ type: 'subscribed' });
    expect(await subscribe(client, 4, 't4')).toMatchObject({ type: 'error', id: 4, code: 'TOO_MANY_SUBSCRIPTIONS' });
    expect(await subscribe(client, 5, 't1', 0)).toMatchObject({ type: 'subscribed' }); // a replacement is fine
    expect(s.stats().subscriptions).toBe(3);
    await client.close();
  });

  it('serves an honest burst of 1,000 frames (the rate limit allows 2,000) without closing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ss-burst-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const s = await start({ store: { path: dir } });
    const { client } = await connectSession(s, await mint());
    for (let id = 1; id <= 500; id++)
      client.send({ type: 'publish', id, topic: 'burst', clientId: `c${id}`, data: id });
    for (let id = 501; id <= 1000; id++) client.send({ type: 'ping', id });
    const answers = [];
    for (let i = 0; i < 1000; i++) answers.push(await client.next());
    expect(answers.map((answer) => ('id' in answer ? answer.id : undefined))).toEqual(range(1, 1000));
    expect(answers.slice(0, 500).every((answer) => answer.type === 'published')).toBe(true);
    await client.close();
  });

  it('refuses publishes over the per-user storage quota with RATE_LIMITED, across the user’s sockets', async () => {
    const s = await start({ limits: { publishBytesPerSecond: 1, publishBytesBurst: 3100 } });
    const token = await mint({ sub: 'hoarder' });
    const [a, b] = [await connectSession(s, token), await connectSession(s, token)];
    const data = 'x'.repeat(1000);
    expect(await publish(a.client, 1, 'store', data)).toMatchObject({ type: 'published' });
    expect(await publish(b.client, 2, 'store', data)).toMatchObject({ type: 'published' });
    expect(await publish(a.client, 3, 'store', data)).toMatchObject({ type: 'published' });
    expect(await publish(b.client, 4, 'store', data)).toMatchObject({ type: 'error', id: 4, code: 'RATE_LIMITED' });
    const other = await connectSession(s, await mint({ sub: 'alice' }));
    expect(await publish(other.client, 5, 'store', data)).toMatchObject({ type: 'published', seq: 4 });
    await Promise.all([a.client.close(), b.client.close(), other.client.close()]);
  });

  it('refuses topics with control characters (BAD_MESSAGE) and server.publish of data nested too deeply', async () => {
    const s = await start();
    const { client } = await connectSession(s, await mint());
    for (const topic of ['a\u0000b', 'tab\there', 'line\nbreak', 'del\u007f', 'c1\u0085']) {
      expect(await subscribe(client, 1, topic)).toMatchObject({ type: 'error', id: 1, code: 'BAD_MESSAGE' });
    }
    const deep = JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`) as never;
    await expect(s.publish('t', deep)).rejects.toThrow(TypeError);
    await client.close();
  });
});

describe('session ids', () => {
  it('never hands an id evicted past maxIdleSessions to another user: the owner resumes fresh, the other gets its own', async () => {
    const registry = createMemorySessionRegistry({ maxIdleSessions: 1 });
    const s = await start({ sessionRegistry: registry });
    const victimId = randomUUID();
    const victimToken = await mint({ sub: 'victim' });
    await (await connectSession(s, victimToken, { sessionId: victimId })).client.close();
    await (await connectSession(s, await mint({ sub: 'someone' }))).client.close(); // evicts the victim's
    const attacker = await connectSession(s, await mint({ sub: 'attacker' }), { sessionId: victimId });
    expect(attacker.welcome).toMatchObject({ userId: 'attacker', resumed: false });
    const victim = await connectSession(s, victimToken, { sessionId: victimId });
    expect(victim.welcome).toMatchObject({ userId: 'victim', sessionId: victimId, resumed: false });
    attacker.client.send({ type: 'end' });
    expect((await attacker.client.closed).code).toBe(CloseCode.SESSION_ENDED);
    await expectNothingBeforePong(victim.client, 1); // the victim's socket is untouched
    await victim.client.close();
  });
});

describe('{sub} on whole segments', () => {
  it('never lets user bob reach user:bob/notes, the private topic a sub "bob/notes" would have', async () => {
    const access = compilePermissions({ 'user:{sub}/*': { read: ['*'], write: ['*'] } });
    const bob = { userId: 'bob', roles: [] };
    const slash = { userId: 'bob/notes', roles: [] };
    expect(access.readGrant('user:bob/notes', bob)).toBeDefined(); // bob's own sub-topic
    expect(access.readGrant('user:bob/notes', slash)).toBeUndefined(); // so it is nobody's private topic
    expect(compilePermissions(undefined).readGrant('user:bob/notes', slash)).toBeUndefined();
    expect(compilePermissions(undefined).readGrant('user:bob/notes', bob)).toBeUndefined();
    // The character after {sub} is a separator too: a sub containing it never stands for {sub}.
    const dotted = compilePermissions({ 'notes.{sub}.draft': { read: ['*'] } });
    expect(dotted.readGrant('notes.a.b.draft', { userId: 'a.b', roles: [] })).toBeUndefined();
    expect(dotted.readGrant('notes.a.draft', { userId: 'a', roles: [] })).toBeDefined();
    for (const pattern of ['user:{sub}*', 'user:*{sub}', 'team:{sub}{sub}']) {
      expect(() => compilePermissions({ [pattern]: { read: ['*'] } })).toThrow(TypeError);
    }
  });
});

describe('retention and HISTORY_TRIMMED', () => {
  it('tells a subscriber whose cursor fell out of the retained log history-trimmed, then sends the retained log', async () => {
    const s = await start({ limits: { retention: { maxChanges: 5 } } });
    for (const n of range(1, 12)) await s.publish('log', n);
    const { client } = await connectSession(s, await mint());
    expect(await subscribe(client, 1, 'log', 2)).toMatchObject({ type: 'subscribed', head: 12 });
    expect(await client.next()).toEqual({ type: 'history-trimmed', topic: 'log', after: 2, first: 8 });
    expect((await changes(client, 5)).map((c) => c.seq)).toEqual(range(8, 12));
    // A cursor inside the retained log gets no signal.
    expect(await subscribe(client, 2, 'log', 10)).toMatchObject({ type: 'subscribed' });
    expect((await changes(client, 2)).map((c) => c.seq)).toEqual([11, 12]);
    await client.close();
  });

  it('keeps one socket from storing more than the retention of a topic (count and bytes)', async () => {
    const s = await start({ limits: { retention: { maxBytes: 64 * 1024 } } });
    const { client } = await connectSession(s, await mint());
    const data = 'y'.repeat(8 * 1024);
    for (let id = 1; id <= 40; id++) await publish(client, id, 'fill', data);
    client.send({ type: 'history', id: 99, topic: 'fill', limit: 500 });
    const page = await client.next();
    expect(page).toMatchObject({ type: 'history', id: 99, hasMore: false });
    const retained = page.type === 'history' ? page.changes.length : 0;
    expect(retained).toBeLessThanOrEqual(8);
    expect(retained).toBeGreaterThan(0);
    await client.close();
  });
});

describe('history', () => {
  it('pages back through a topic, oldest first, with hasMore, bounded by the server maximum', async () => {
    const s = await start({ limits: { maxHistoryLimit: 4, historyLimit: 3 } });
    for (const n of range(1, 10)) await s.publish('h', n);
    const { client } = await connectSession(s, await mint());
    client.send({ type: 'history', id: 1, topic: 'h' });
    expect(await client.next()).toMatchObject({
      type: 'history',
      id: 1,
      topic: 'h',
      hasMore: true,
      changes: [{ seq: 8 }, { seq: 9 }, { seq: 10 }],
    });
    client.send({ type: 'history', id: 2, topic: 'h', before: 8, limit: 100 });
    const page = await client.next();
    expect(page.type === 'history' && page.changes.map((c) => c.seq)).toEqual([4, 5, 6, 7]);
    client.send({ type: 'history', id: 3, topic: 'h', before: 4, limit: 4 });
    expect(await client.next()).toMatchObject({
      hasMore: false,
      changes: [{ seq: 1, data: 1 }, { seq: 2 }, { seq: 3 }],
    });
    await client.close();
  });

  it('answers FORBIDDEN for a topic the user may not read and INVALID_ARGUMENT for bad fields', async () => {
    const s = await start();
    const { client } = await connectSession(s, await mint({ sub: 'alice' }));
    client.send({ type: 'history', id: 1, topic: 'user:bob' });
    expect(await client.next()).toMatchObject({ type: 'error', id: 1, code: 'FORBIDDEN' });
    for (const bad of [
      { before: 0 },
      { before: -1 },
      { before: 1.5 },
      { limit: 0 },
      { limit: '5' },
      { topic: '' },
      { topic: 'a\u0007' },
    ]) {
      client.send({ type: 'history', id: 2, topic: 'ok', ...bad });
      expect(await client.next()).toMatchObject({ type: 'error', id: 2, code: 'INVALID_ARGUMENT' });
    }
    await client.close();
  });
});
