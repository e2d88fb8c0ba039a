/**
 * Real processes: three built CLI servers (`dist/server/cli.js --redis URL`) behind a real nginx,
 * spoken to with `ws`. Needs `npm run build` first (skipped with the reason otherwise).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSession, mint, SECRET, TestClient } from '../server/helpers.js';
import { changes, publish, range, subscribe } from '../server/topic-helpers.js';
import {
  missingServices,
  startNginx,
  startRedis,
  startServerProcess,
  type NginxService,
  type RedisService,
  type ServerProcess,
} from './services.js';

const CLI = fileURLToPath(new URL('../../../dist/server/cli.js', import.meta.url));
// The Redis backend's file tells a build with --redis from an older one.
const BUILT_WITH_REDIS = fileURLToPath(new URL('../../../dist/server/redis/backend.js', import.meta.url));
const skip =
  missingServices(true) ??
  (existsSync(CLI) && existsSync(BUILT_WITH_REDIS) ? undefined : 'dist/ missing or stale: run `npm run build`');

describe.skipIf(skip !== undefined)(`three server processes behind nginx${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let redis: RedisService;
  let nginx: NginxService;
  let processes: ServerProcess[] = [];
  const keyPrefix = `balancer-${randomUUID()}:`;

  beforeAll(async () => {
    redis = await startRedis();
    processes = await Promise.all(
      range(1, 3).map(() => startServerProcess({ cli: CLI, secret: SECRET, redisUrl: redis.url, keyPrefix })),
    );
    nginx = await startNginx(processes.map((p) => p.port));
  }, 30_000);
  afterAll(async () => {
    await nginx?.stop();
    await Promise.all(processes.map((p) => p.stop()));
    await redis?.stop();
  });

  /** A stand-in for the `SessionServer` handle helpers expect: only `url` is used. */
  const at = (url: string) => ({ url }) as Parameters<typeof connectSession>[0];

  it('spreads sockets round-robin over the processes and proxies the WebSocket upgrade', async () => {
    const clients: TestClient[] = [];
    try {
      for (let i = 0; i < 6; i++)
        clients.push((await connectSession(at(nginx.url), await mint({ sub: `u${i}` }))).client);
      const sockets = await Promise.all(processes.map(async (p) => (await p.health()).sockets));
      expect(sockets).toEqual([2, 2, 2]);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('resumes through the balancer on a surviving process after a crash, with only the missed changes', async () => {
    const sessionId = randomUUID();
    const token = await mint({ sub: 'alice' });
    const publisher = (await connectSession(at(processes[2]!.url), await mint({ sub: 'bob' }))).client;
    const first = await connectSession(at(processes[0]!.url), token, { sessionId });
    try {
      await subscribe(first.client, 1, 'crash');
      for (let n = 1; n <= 5; n++) await publish(publisher, n, 'crash', n);
      expect((await changes(first.client, 5)).map((c) => c.seq)).toEqual(range(1, 5));
      await processes[0]!.kill();
      expect((await first.client.closed).code).toBe(1006);
      for (let n = 6; n <= 9; n++) await publish(publisher, n, 'crash', n);

      const sentBefore = await Promise.all(processes.slice(1).map(async (p) => (await p.health()).changesSent));
      const again = await connectSession(at(nginx.url), token, { sessionId });
      expect(again.welcome.resumed).toBe(true);
      expect(await subscribe(again.client, 1, 'crash', 5)).toMatchObject({ type: 'subscribed', head: 9 });
      expect((await changes(again.client, 4)).map((c) => c.data)).toEqual([6, 7, 8, 9]);
      const sentAfter = await Promise.all(processes.slice(1).map(async (p) => (await p.health()).changesSent));
      expect(sentAfter[0]! - sentBefore[0]! + sentAfter[1]! - sentBefore[1]!).toBe(4);
      await again.client.close();
    } finally {
      await publisher.close();
    }
  });
});
