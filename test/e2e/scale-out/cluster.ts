/**
 * Fixtures of the scale-out specs: a real `redis-server`, three reference-server child processes
 * (the built CLI of the suite's `dist/` snapshot, `--redis URL`) and a real nginx balancing them
 * round-robin, all on free loopback ports and stopped after each test. Tabs of a second browser
 * context come from `openTabIn(context)`.
 */
import type { BrowserContext, Page } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { DIST_DIR } from '../paths.ts';
import { signToken, test as base } from '../fixtures.ts';
import type { RefreshPlan } from '../app/harness-types.ts';
import {
  missingServices,
  startNginx,
  startRedis,
  startServerProcess,
  type HealthStats,
  type NginxService,
  type RedisService,
  type ServerProcess,
} from '../../unit/scale-out/services.ts';

export { expect } from '../fixtures.ts';
export type { HealthStats, ServerProcess };

/** Why these specs cannot run on this machine (redis-server or nginx missing), if they cannot. */
export const MISSING_SERVICES = missingServices(true);

/** Number of server processes behind the balancer. */
export const PROCESS_COUNT = 3;

/** Redis, the server processes and the balancer of one test. */
export interface Cluster {
  readonly redis: RedisService;
  /** Key prefix the processes share (a fresh one per test). */
  readonly keyPrefix: string;
  readonly processes: readonly ServerProcess[];
  readonly nginx: NginxService;
  /** `/health` of every running process, in `processes` order (`undefined` for a stopped one). */
  health(): Promise<(HealthStats | undefined)[]>;
  /** The running process that holds an open authenticated socket of `userId`, once one does. */
  processOf(userId: string, timeoutMs?: number): Promise<ServerProcess>;
}

type ClusterFixtures = {
  cluster: Cluster;
  /** Opens a tab of the test app in `context` (another browser profile) and waits for its harness. */
  openTabIn: (context: BrowserContext) => Promise<Page>;
};

export const test = base.extend<ClusterFixtures>({
  cluster: async ({ server, testLogs }, use) => {
    const redis = await startRedis();
    const keyPrefix = `e2e-${randomUUID()}:`;
    const processes: ServerProcess[] = [];
    let nginx: NginxService | undefined;
    try {
      // The in-process `server` fixture's secret, so that the tabs' refresh handler (which mints with
      // it) makes tokens every process accepts.
      const cli = path.join(DIST_DIR, 'server', 'cli.js');
      for (let i = 0; i < PROCESS_COUNT; i++) {
        processes.push(await startServerProcess({ cli, secret: server.secret, redisUrl: redis.url, keyPrefix }));
      }
      nginx = await startNginx(processes.map((p) => p.port));
      const cluster: Cluster = {
        redis,
        keyPrefix,
        processes,
        nginx,
        health: () => Promise.all(processes.map((p) => (p.running ? p.health() : undefined))),
        async processOf(userId, timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const users = await Promise.all(processes.map((p) => (p.running ? p.socketsByUser() : undefined)));
            const index = users.findIndex((byUser) => (byUser?.[userId] ?? 0) > 0);
            if (index >= 0) return processes[index]!;
            if (Date.now() > deadline) throw new Error(`no process holds a socket of ${userId}`);
            await new Promise((resolve) => setTimeout(resolve, 25));
          }
        },
      };
      await use(cluster);
    } finally {
      processes.forEach((p, i) => testLogs.push(`--- server process ${i + 1} (:${p.port}) ---\n${p.output()}`));
      await nginx?.stop();
      await Promise.all(processes.map((p) => p.stop()));
      await redis.stop();
    }
  },

  openTabIn: async ({ appUrl, server, testLogs }, use) => {
    const exposed = new Set<BrowserContext>();
    let opened = 0;
    await use(async (context) => {
      if (!exposed.has(context)) {
        exposed.add(context);
        await context.exposeFunction('mintFreshToken', (plan: RefreshPlan) =>
          signToken(server.secret, { sub: plan.sub, roles: plan.roles, expiresIn: plan.expiresIn }),
        );
      }
      const tab = `other-context-tab${++opened}`;
      const page = await context.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') testLogs.push(`[${tab} ${msg.type()}] ${msg.text()}`);
      });
      page.on('pageerror', (error) => testLogs.push(`[${tab} pageerror] ${error.stack ?? error.message}`));
      await page.goto(appUrl);
      await page.waitForFunction(() => window.harness !== undefined);
      return page;
    });
  },
});
