/**
 * Two or three servers sharing one real redis-server (each with its own Redis connections, as
 * separate processes would have): fan-out across servers, resume on another server, exactly-once
 * publishes across servers, `end` reaching every server, and recovery of the fan-out after the
 * subscriber connection to Redis dropped.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeMessage } from '../../../src/protocol/messages.js';
import { openRedisBackend, runCli, type SessionServer } from '../../../src/server/index.js';
import { connectSession, mint, startServer, TestClient, waitFor } from '../server/helpers.js';
import { changes, publish, range, subscribe } from '../server/topic-helpers.js';
import { missingServices, startRedis, type RedisService } from './services.js';

const missing = missingServices(false);

describe.skipIf(missing !== undefined)(`servers sharing Redis${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let redis: RedisService;
  const servers: SessionServer[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.close()));
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  /** `n` servers on one fresh key prefix (an empty Redis for this test). */
  const startServers = async (n: number): Promise<SessionServer[]> => {
    const keyPrefix = `scale-${randomUUID()}:`;
    const started = await Promise.all(range(1, n).map(() => startServer({ store: { redis: redis.url, keyPrefix } })));
    servers.push(...started);
    return started;
  };
  const connect = async (server: SessionServer, sub = 'alice', sessionId?: string) => {
    const { client, welcome } = await connectSession(server, await mint({ sub }), sessionId ? { sessionId } : {});
    clients.push(client);
    return { client, welcome };
  };
  const dataOf = (received: ChangeMessage[]) => received.map((c) => c.data);

  it('fans out a publish on one server to subscribers on every server, in order, once', async () => {
    const [a, b, c] = await startServers(3);
    const onA = (await connect(a!)).client;
    const onB = (await connect(b!, 'bob')).client;
    const publisher = (await connect(c!, 'carol')).client;
    expect(await subscribe(onA, 1, 'chat')).toMatchObject({ type: 'subscribed', head: 0 });
    expect(await subscribe(onB, 1, 'chat')).toMatchObject({ type: 'subscribed', head: 0 });
    for (let n = 1; n <= 20; n++)
      publisher.send({ type: 'publish', id: n, topic: 'chat', clientId: `p-${n}`, data: n });
    const [gotA, gotB] = await Promise.all([changes(onA, 20), changes(onB, 20)]);
    expect(gotA.map((m) => m.seq)).toEqual(range(1, 20));
    expect(dataOf(gotA)).toEqual(range(1, 20));
    expect(dataOf(gotB)).toEqual(range(1, 20));
    // Nothing more: each change once.
    expect(await publish(onA, 99, 'chat', 'last')).toMatchObject({ type: 'published', seq: 21 });
    expect((await changes(onB, 1))[0]).toMatchObject({ seq: 21, data: 'last' });
    expect(a!.stats().changesStored + b!.stats().changesStored + c!.stats().changesStored).toBe(21);
  });

  it('keeps one order for concurrent publishes from two servers, the same on both', async () => {
    const [a, b] = await startServers(2);
    const onA = (await connect(a!)).client;
    const onB = (await connect(b!, 'bob')).client;
    await subscribe(onA, 1, 'race');
    await subscribe(onB, 1, 'race');
    for (let n = 1; n <= 100; n++) {
      (n % 2 === 0 ? onA : onB).send({ type: 'publish', id: 100 + n, topic: 'race', clientId: `r-${n}`, data: n });
    }
    const collect = async (client: TestClient) => {
      const got: ChangeMessage[] = [];
      while (got.length < 100) {
        const message = await client.next();
        if (message.type === 'change') got.push(message);
      }
      return got;
    };
    const [gotA, gotB] = await Promise.all([collect(onA), collect(onB)]);
    expect(gotA.map((m) => m.seq)).toEqual(range(1, 100));
    expect(gotB).toEqual(gotA);
    expect(new Set(dataOf(gotA)).size).toBe(100);
  });

  it('resumes a session on another server (resumed: true) and sends only the changes after the cursor', async () => {
    const [a, b] = await startServers(2);
    const sessionId = randomUUID();
    const first = await connect(a!, 'alice', sessionId);
    expect(first.welcome.resumed).toBe(false);
    await subscribe(first.client, 1, 'feed');
    for (let n = 1; n <= 5; n++) await a!.publish('feed', n);
    expect((await changes(first.client, 5)).map((m) => m.seq)).toEqual(range(1, 5));
    await first.client.close();
    for (let n = 6; n <= 8; n++) await a!.publish('feed', n);

    const second = await connect(b!, 'alice', sessionId);
    expect(second.welcome.resumed).toBe(true);
    expect(await subscribe(second.client, 1, 'feed', 5)).toMatchObject({ type: 'subscribed', head: 8 });
    expect(dataOf(await changes(second.client, 3))).toEqual([6, 7, 8]);
    expect(b!.stats().changesSent).toBe(3);
    await b!.publish('feed', 9);
    expect((await changes(second.client, 1))[0]).toMatchObject({ seq: 9 });
  });

  it("never hands another user's session id to an intruder on any server: it gets a session of its own", async () => {
    const [a, b] = await startServers(2);
    const sessionId = randomUUID();
    await connect(a!, 'alice', sessionId);
    const intruder = await TestClient.connect(b!.url);
    clients.push(intruder);
    intruder.send({ type: 'hello', protocol: 1, token: await mint({ sub: 'mallory' }), sessionId });
    expect(await intruder.next()).toMatchObject({ type: 'welcome', userId: 'mallory', resumed: false });
  });

  it('stores a publish retried on another server once (clientId dedup shared by all servers)', async () => {
    const [a, b] = await startServers(2);
    const onA = (await connect(a!)).client;
    const onB = (await connect(b!)).client;
    await subscribe(onB, 1, 'outbox');
    expect(await publish(onA, 2, 'outbox', { v: 1 }, 'same-id')).toMatchObject({ seq: 1, duplicate: false });
    expect((await changes(onB, 1))[0]).toMatchObject({ seq: 1, clientId: 'same-id' });
    expect(await publish(onB, 3, 'outbox', { v: 1 }, 'same-id')).toMatchObject({ seq: 1, duplicate: true });
    expect(await publish(onB, 4, 'outbox', { v: 2 }, 'other-id')).toMatchObject({ seq: 2, duplicate: false });
    expect((await changes(onB, 1))[0]).toMatchObject({ seq: 2, data: { v: 2 } });
  });

  it("closes a session's sockets on every server with 4005 when it ends on one", async () => {
    const [a, b] = await startServers(2);
    const sessionId = randomUUID();
    const onA = (await connect(a!, 'alice', sessionId)).client;
    const onB = (await connect(b!, 'alice', sessionId)).client;
    const other = (await connect(b!, 'alice')).client;
    onA.send({ type: 'end' });
    expect((await onA.closed).code).toBe(4005);
    expect((await onB.closed).code).toBe(4005);
    expect(other.ws.readyState).toBe(other.ws.OPEN);
    const again = await connect(b!, 'alice', sessionId);
    expect(again.welcome.resumed).toBe(false);
  });

  it('delivers every change after the subscriber connection to Redis dropped, without a later publish', async () => {
    const [a, b] = await startServers(2);
    const onA = (await connect(a!)).client;
    await subscribe(onA, 1, 'resync');
    await b!.publish('resync', 1);
    expect((await changes(onA, 1))[0]).toMatchObject({ seq: 1 });
    // Drop every pub/sub connection of the test's Redis, then publish while they reconnect.
    const admin = new Redis(redis.url);
    try {
      await admin.client('KILL', 'TYPE', 'pubsub');
      await b!.publish('resync', 2);
      await b!.publish('resync', 3);
    } finally {
      admin.disconnect();
    }
    expect(dataOf(await changes(onA, 2, 10_000))).toEqual([2, 3]);
  });

  it(
    'answers INTERNAL while Redis is down, closes a hello with 1011, and still shuts down promptly',
    { timeout: 20_000 },
    async () => {
      const own = await startRedis();
      const server = await startServer({ store: { redis: own.url } });
      try {
        const { client } = await connectSession(server, await mint());
        await own.stop();
        expect(await publish(client, 1, 'down', 1)).toMatchObject({ type: 'error', id: 1, code: 'INTERNAL' });
        expect(await subscribe(client, 2, 'down')).toMatchObject({ type: 'error', id: 2, code: 'INTERNAL' });
        const late = await TestClient.connect(server.url);
        late.send({ type: 'hello', protocol: 1, token: await mint(), sessionId: randomUUID() });
        expect((await late.closed).code).toBe(1011);
        await client.close();
      } finally {
        const started = Date.now();
        await server.close();
        expect(Date.now() - started).toBeLessThan(5_000);
        await own.stop();
      }
    },
  );

  it('runs the CLI with --redis and --redis-prefix', async () => {
    const out: string[] = [];
    const abort = new AbortController();
    let listening!: (server: SessionServer) => void;
    const started = new Promise<SessionServer>((resolve) => (listening = resolve));
    const keyPrefix = `cli-${randomUUID()}:`;
    const exit = runCli(
      ['--port', '0', '--secret', 's'.repeat(32), '--redis', redis.url, '--redis-prefix', keyPrefix],
      {
        out: (line) => out.push(line),
        err: (line) => out.push(line),
        logger: false,
        signals: [],
        signal: abort.signal,
        onListening: listening,
      },
    );
    const server = await Promise.race([
      started,
      exit.then((code) => Promise.reject(new Error(`exit ${code}: ${out.join('\n')}`))),
    ]);
    expect(out[1]).toBe(`topics, fan-out and sessions shared through Redis at ${redis.url}`);
    expect(await server.publish('cli', 'one')).toEqual({ seq: 1 });
    const admin = new Redis(redis.url);
    try {
      expect(await admin.xlen(`${keyPrefix}topic:{cli}:log`)).toBe(1);
    } finally {
      admin.disconnect();
    }
    abort.abort();
    expect(await exit).toBe(0);
  });

  it('shares the session registry: ids owned in Redis with a retention TTL, refreshed while live', async () => {
    const keyPrefix = `registry-${randomUUID()}:`;
    const backend = await openRedisBackend({ url: redis.url, keyPrefix, sessionRetentionMs: 60_000 });
    const other = await openRedisBackend({ url: redis.url, keyPrefix, sessionRetentionMs: 60_000 });
    const admin = new Redis(redis.url);
    try {
      const ended: string[] = [];
      other.sessionRegistry.onEnded!((id) => ended.push(id));
      expect(await backend.sessionRegistry.attach('s1', 'alice', Date.now())).toBe('created');
      expect(await other.sessionRegistry.attach('s1', 'alice', Date.now())).toBe('resumed');
      expect(await other.sessionRegistry.attach('s1', 'bob', Date.now())).toBe('user-mismatch');
      expect(await admin.get(`${keyPrefix}session:s1`)).toBe('alice');
      const ttl = await admin.pttl(`${keyPrefix}session:s1`);
      expect(ttl).toBeGreaterThan(50_000);
      await admin.pexpire(`${keyPrefix}session:s1`, 1_000);
      await backend.sessionRegistry.prune(Date.now()); // refreshes the live session's TTL
      expect(await admin.pttl(`${keyPrefix}session:s1`)).toBeGreaterThan(50_000);
      await backend.sessionRegistry.forget('s1');
      await waitFor(() => ended.length === 1);
      expect(ended).toEqual(['s1']);
      expect(await admin.exists(`${keyPrefix}session:s1`)).toBe(0);
      expect(await other.sessionRegistry.attach('s1', 'bob', Date.now())).toBe('created');
    } finally {
      admin.disconnect();
      await backend.close();
      await other.close();
    }
  });
});
