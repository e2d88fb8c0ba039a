// Sockets at the server for N tabs of one browser profile (spec §10: 1), with the SharedWorker host
// and with the leader-tab host, against N tabs each opening its own.
import { openTabs, type BenchEnv, type PageKind } from '../env.ts';
import { row } from '../table.ts';

/** A tab's start that has not settled by then is reported as failed (the run goes on). */
const START_TIMEOUT_MS = 30_000;

/** `promise`, or a rejection once {@link START_TIMEOUT_MS} passed. */
function withinStartTimeout<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function socketsPerTabs(env: BenchEnv, kind: PageKind, counts: readonly number[]): Promise<void> {
  for (const n of counts) {
    const user = `sockets-${kind}-${n}`;
    const token = await env.mintToken({ sub: user, roles: ['member'] });
    const count = () => env.server.stats().socketsByUser[user] ?? 0;

    const direct = await openTabs(env, kind, n, 'none');
    for (const [i, page] of direct.pages.entries()) {
      await withinStartTimeout(page.evaluate(([u, t]) => bench.startDirect(u!, t!), [env.server.url, token])).catch(
        (error: unknown) => console.log(`  own socket, tab ${i + 1}: ${String(error).split('\n')[0]}`),
      );
    }
    const directSockets = count();
    await direct.context.close();

    for (const host of ['auto', 'leader'] as const) {
      const shared = await openTabs(env, kind, n, host);
      // A tab whose start fails is reported in the table, not hidden (and the run goes on).
      const failures: string[] = [];
      for (const [i, page] of shared.pages.entries()) {
        await withinStartTimeout(page.evaluate((t) => bench.startShared(t), token)).catch((error: unknown) => {
          failures.push(`tab ${i + 1}: ${String(error).split('\n')[0]}`);
        });
      }
      const sharedSockets = count();
      await shared.context.close();
      const label = host === 'auto' ? '' : ', leader-tab host';
      if (failures.length > 0) console.log(`  ${failures.join('; ')}`);
      const shown = failures.length > 0 ? `${sharedSockets} (${failures.length} start(s) failed)` : sharedSockets;
      row(`sockets for ${n} tab(s)${label}`, kind, shown, directSockets, { equals: '1' });
    }
  }
}
