// Page → host → page round trips (spec §10: mean and p99 ≤ 1.2× a raw MessagePort), for a no-op
// (`pingHost`) and a read (`getSession`), both answered by the host, against a raw MessagePort
// echo SharedWorker, interleaved call by call in one page.
import { mean, openTabs, percentile, type BenchEnv, type PageKind } from '../env.ts';
import { row } from '../table.ts';

/** Round-trip target of spec §10 (mean and p99). */
export const RPC_TARGET = { max: 1.2 };

export async function rpcRoundTrip(env: BenchEnv, kind: PageKind, rounds: number): Promise<void> {
  const { context, pages } = await openTabs(env, kind, 1);
  const page = pages[0]!;
  await page.evaluate((t) => bench.startShared(t), await env.mintToken({ sub: `rpc-${kind}` }));
  await page.evaluate((n) => bench.rpcRounds(n), Math.min(500, rounds)); // warm up: JIT, the echo worker
  const samples = await page.evaluate((n) => bench.rpcRounds(n), rounds);
  await context.close();
  for (const call of ['pingHost', 'getSession'] as const) {
    const host = call === 'pingHost' ? samples.ping : samples.getSession;
    row(`RPC ${call}() round trip mean (ms)`, kind, mean(host), mean(samples.raw), RPC_TARGET);
    row(`RPC ${call}() round trip p99 (ms)`, kind, percentile(host, 99), percentile(samples.raw, 99), RPC_TARGET);
    row(`RPC ${call}() round trip p50 (ms)`, kind, percentile(host, 50), percentile(samples.raw, 50));
  }
}
