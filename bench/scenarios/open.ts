// startSession → OPEN (spec §10): the first tab of a browser profile (its host started when the
// page created its client, but has no session and no socket yet) and a tab joining the running
// session, against a tab opening its own socket. Each sample is a fresh context; the kinds are
// interleaved sample by sample. The cold row adds the host's own start: `new SessionClient` and
// `startSession` in one go on a page that had no client (informational: a worker process starting
// cannot be within 3× of a socket).
import { openTabs, percentile, type BenchEnv, type PageKind } from '../env.ts';
import { row } from '../table.ts';

export async function timeToOpen(env: BenchEnv, kind: PageKind, samples: number): Promise<void> {
  const first: number[] = [];
  const joining: number[] = [];
  const direct: number[] = [];
  const cold: number[] = [];
  for (let i = 0; i < samples; i++) {
    const token = await env.mintToken({ sub: `open-${kind}-${i}` });
    const shared = await openTabs(env, kind, 2);
    for (const page of shared.pages) await page.evaluate(() => bench.hostReady());
    first.push(await shared.pages[0]!.evaluate((t) => bench.startShared(t), token));
    joining.push(await shared.pages[1]!.evaluate((t) => bench.startShared(t), token));
    await shared.context.close();

    const own = await openTabs(env, kind, 1, 'none');
    const ownToken = await env.mintToken({ sub: `open-direct-${kind}-${i}` });
    direct.push(await own.pages[0]!.evaluate(([u, t]) => bench.startDirect(u!, t!), [env.server.url, ownToken]));
    await own.context.close();

    const fresh = await openTabs(env, kind, 1, 'none');
    const coldToken = await env.mintToken({ sub: `open-cold-${kind}-${i}` });
    cold.push(await fresh.pages[0]!.evaluate(([u, t]) => bench.startCold(u!, t!), [env.server.url, coldToken]));
    await fresh.context.close();
  }
  const ownSocket = percentile(direct, 50);
  row('startSession → OPEN, first tab, p50 (ms)', kind, percentile(first, 50), ownSocket, { max: 3 });
  row('startSession → OPEN, joining tab, p50 (ms)', kind, percentile(joining, 50), ownSocket, { max: 1.2 });
  row('new SessionClient + startSession → OPEN, cold host, p50 (ms)', kind, percentile(cold, 50), ownSocket);
}
