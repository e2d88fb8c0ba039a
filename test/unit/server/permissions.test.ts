import { afterEach, describe, expect, it } from 'vitest';
import { compilePermissions, type Principal } from '../../../src/server/topics/permissions.js';
import type { SessionServer, TopicPermissions } from '../../../src/server/index.js';
import { connectSession, mint, startServer } from './helpers.js';
import { changes, expectNothingBeforePong, publish, subscribe } from './topic-helpers.js';

const alice: Principal = { userId: 'alice', roles: ['member'] };
const bob: Principal = { userId: 'bob', roles: ['admin', 'member'] };
const guest: Principal = { userId: 'guest-1', roles: [] };

describe('compilePermissions', () => {
  it('without the option lets every user read and write every topic but other users’ user: topics', () => {
    const access = compilePermissions(undefined);
    expect(access.readGrant('chat', guest)).toBe('all');
    expect(access.canWrite('chat', guest)).toBe(true);
    expect(access.readGrant('user:alice', alice)).toBe('owner');
    expect(access.canWrite('user:alice', alice)).toBe(true);
    expect(access.readGrant('user:alice', bob)).toBeUndefined();
    expect(access.canWrite('user:alice', bob)).toBe(false);
    // Only exactly user:<sub>: a sub-topic or a prefix of another user's id is not the user's own.
    expect(access.readGrant('user:alice:inbox', alice)).toBeUndefined();
    expect(access.readGrant('user:alic', alice)).toBeUndefined();
  });

  it('applies the first matching pattern, with * wildcards, role lists and the any-user role', () => {
    const access = compilePermissions({
      'public:announcements': { read: ['*'], write: ['admin'] },
      'public:*': { read: ['member', 'admin'], write: ['member'] },
      'room:*:log': { read: ['admin'] },
    });
    expect(access.readGrant('public:announcements', guest)).toBe('0:*');
    expect(access.canWrite('public:announcements', alice)).toBe(false);
    expect(access.canWrite('public:announcements', bob)).toBe(true);
    expect(access.readGrant('public:chat', guest)).toBeUndefined();
    expect(access.readGrant('public:chat', alice)).toBe('1:["member"]');
    expect(access.readGrant('public:chat', bob)).toBe('1:["admin","member"]');
    expect(access.canWrite('public:chat', alice)).toBe(true);
    expect(access.readGrant('room:7:log', bob)).toBeDefined();
    expect(access.canWrite('room:7:log', bob)).toBe(false);
    expect(access.readGrant('room:7:logs', bob)).toBeUndefined();
    // No pattern matches: refused.
    expect(access.readGrant('secret', bob)).toBeUndefined();
    expect(access.canWrite('secret', bob)).toBe(false);
  });

  it('keeps user: topics private under a catch-all pattern unless a user: pattern decides', () => {
    const openAll = compilePermissions({ '*': { read: ['*'], write: ['*'] } });
    expect(openAll.readGrant('anything', guest)).toBe('0:*');
    expect(openAll.readGrant('user:alice', bob)).toBeUndefined();
    expect(openAll.canWrite('user:alice', bob)).toBe(false);
    expect(openAll.readGrant('user:alice', alice)).toBe('owner');

    const inboxes = compilePermissions({
      'user:{sub}': { read: ['*'] },
      'user:*': { read: ['admin'] },
    });
    expect(inboxes.readGrant('user:alice', alice)).toBe('0:*');
    expect(inboxes.canWrite('user:alice', alice)).toBe(false); // read-only inbox, written by the server
    expect(inboxes.readGrant('user:alice', bob)).toBe('1:["admin"]');
    expect(inboxes.readGrant('user:bob', alice)).toBeUndefined();
  });

  it('takes {sub} and the rest of a pattern literally', () => {
    const access = compilePermissions({ 'notes.{sub}.(draft)': { read: ['*'], write: ['*'] } });
    expect(access.canWrite('notes.alice.(draft)', alice)).toBe(true);
    expect(access.canWrite('notesXaliceX(draft)', alice)).toBe(false);
    expect(access.canWrite('notes.alice.(draft)', bob)).toBe(false);
    const star = { userId: 'a*', roles: [] };
    expect(access.canWrite('notes.a*.(draft)', star)).toBe(true);
    expect(access.canWrite('notes.anyone.(draft)', star)).toBe(false);
  });

  it('throws a TypeError for a malformed option', () => {
    const bad: unknown[] = [
      null,
      [],
      'public:*',
      { '': { read: ['*'] } },
      { 'a:*': null },
      { 'a:*': { read: 'member' } },
      { 'a:*': { write: [''] } },
      { 'a:*': { read: [1] } },
    ];
    for (const permissions of bad) {
      expect(() => compilePermissions(permissions as TopicPermissions)).toThrow(TypeError);
    }
  });
});

describe('permissions on the wire', () => {
  let server: SessionServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers a denied subscribe or publish with FORBIDDEN and sends no data', async () => {
    server = await startServer({
      permissions: {
        'public:*': { read: ['member', 'admin'], write: ['admin'] },
        'user:{sub}': { read: ['*'], write: ['*'] },
      },
    });
    await server.publish('public:news', 'secret until you are a member');
    await server.publish('other', 'matched by no pattern');
    const visitor = await connectSession(server, await mint({ sub: 'v', roles: ['visitor'] }));
    expect(await subscribe(visitor.client, 1, 'public:news')).toEqual({
      type: 'error',
      id: 1,
      code: 'FORBIDDEN',
      message: 'not allowed to read topic "public:news"',
    });
    expect(await subscribe(visitor.client, 2, 'other')).toMatchObject({ type: 'error', id: 2, code: 'FORBIDDEN' });
    const member = await connectSession(server, await mint({ sub: 'm', roles: ['member'] }));
    expect(await publish(member.client, 1, 'public:news', 'hello')).toEqual({
      type: 'error',
      id: 1,
      code: 'FORBIDDEN',
      message: 'not allowed to publish to topic "public:news"',
    });
    await expectNothingBeforePong(visitor.client, 3);
    expect(server.stats()).toMatchObject({ subscriptions: 0, changesSent: 0, changesStored: 2 });

    expect(await subscribe(member.client, 2, 'public:news')).toMatchObject({ type: 'subscribed', head: 1 });
    expect(await changes(member.client, 1)).toMatchObject([{ seq: 1 }]);
    const admin = await connectSession(server, await mint({ sub: 'a', roles: ['admin'] }));
    expect(await publish(admin.client, 1, 'public:news', 'hello')).toMatchObject({ type: 'published', seq: 2 });
    await Promise.all([visitor.client.close(), member.client.close(), admin.client.close()]);
  });

  it('keeps user:<sub> private to its user by default', async () => {
    server = await startServer();
    const alice = await connectSession(server, await mint({ sub: 'alice' }));
    const bob = await connectSession(server, await mint({ sub: 'bob', roles: ['admin'] }));
    expect(await publish(alice.client, 1, 'user:alice', 'note to self')).toMatchObject({ type: 'published', seq: 1 });
    expect(await subscribe(bob.client, 1, 'user:alice')).toMatchObject({ type: 'error', id: 1, code: 'FORBIDDEN' });
    expect(await publish(bob.client, 2, 'user:alice', 'hi')).toMatchObject({ type: 'error', id: 2, code: 'FORBIDDEN' });
    await expectNothingBeforePong(bob.client, 3);
    expect(await subscribe(alice.client, 2, 'user:alice')).toMatchObject({ type: 'subscribed', head: 1 });
    expect(await changes(alice.client, 1)).toMatchObject([{ seq: 1, data: 'note to self' }]);
    await Promise.all([alice.client.close(), bob.client.close()]);
  });
});
