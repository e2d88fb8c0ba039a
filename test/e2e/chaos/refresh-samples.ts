/**
 * The refresh figures of the chaos specs, from the host's own account: `client.inspect()` sampled
 * through an open tab (session expiry, refresh history, closes), and each refresh round's lead
 * before the expiry of the token it replaced.
 */
import type { Page } from '@playwright/test';
import type { HostInspection, RefreshRecord } from '../../../src/protocol/host-api.ts';

/** One sample of the host's inspection, taken through whichever tab is open. */
export interface InspectionSample {
  /** Epoch ms before the call went out and after its answer came back: the read lies between. */
  askedAt: number;
  at: number;
  expiresAt: number | null | undefined;
  history: RefreshRecord[];
  closes: HostInspection['closes'];
}

/** Samples `client.inspect()` every `intervalMs` through the first of `tabs` that answers. */
export function sampleInspections(tabs: readonly Page[], intervalMs: number) {
  const samples: InspectionSample[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const tab = tabs[0];
      const askedAt = Date.now();
      const inspection = await tab?.evaluate(() => window.client.inspect!()).catch(() => undefined); // the tab closed meanwhile: the next sample uses another
      if (inspection) {
        const { session, refreshHistory: history, closes } = inspection;
        samples.push({ askedAt, at: Date.now(), expiresAt: session?.expiresAt, history, closes });
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop(): Promise<InspectionSample[]> {
      stopped = true;
      await done;
      return samples;
    },
  };
}

/** How long before the replaced token's expiry a refresh round ended (`at`: the round's end, epoch ms). */
export interface RefreshLead {
  at: number;
  ms: number;
}

/**
 * Each refresh round once (the host keeps the last 20), and for each refreshed one its lead: the
 * expiry of the token it replaced minus the round's end. That expiry comes from the last sample
 * read between the previous round's end and this round's start; a round without such a sample has
 * no lead (any other sample could show the token before the previous round, or the new one).
 */
export function refreshRounds(samples: readonly InspectionSample[]) {
  const rounds = new Map<string, RefreshRecord>();
  for (const sample of samples) for (const r of sample.history) rounds.set(`${r.at}|${r.tabId}|${r.outcome}`, r);
  const ordered = [...rounds.values()].sort((a, b) => a.at - b.at);
  const leads: RefreshLead[] = [];
  ordered.forEach((round, i) => {
    if (round.outcome !== 'refreshed') return;
    // A sample read after the previous round adopted its token and before this round started.
    const previousEnd = ordered[i - 1]?.at ?? -Infinity;
    const startedAt = round.at - round.durationMs;
    const before = samples.filter(
      (s) => s.askedAt > previousEnd && s.at < startedAt && typeof s.expiresAt === 'number',
    );
    const expiresAt = before.at(-1)?.expiresAt;
    if (typeof expiresAt === 'number') leads.push({ at: round.at, ms: expiresAt - round.at });
  });
  return { rounds: ordered, leads };
}
