/**
 * A steady stream of publishes from a tab (`client.publish` through the host's outbox), for the
 * chaos specs: started and stopped from the test, recorded by the harness in `window.publishes`.
 */
import type { Page } from '@playwright/test';
import type { PublishLog } from '../app/harness-types.ts';

/** Data of a change a tab stream published. */
export interface TabChangeData {
  src: 'tab';
  tab: number;
  n: number;
}

declare global {
  interface Window {
    /** The harness ids of this tab's stream, in publish order, and its timer. */
    chaosStream?: { ids: string[]; timer: ReturnType<typeof setInterval> | undefined };
  }
}

/** Starts publishing `{ src: 'tab', tab, n }` to `topic` every `intervalMs` in `page`, without awaiting each. */
export function startTabStream(page: Page, topic: string, tab: number, intervalMs: number): Promise<void> {
  return page.evaluate(
    ([topic, tab, intervalMs]) => {
      const ids: string[] = [];
      const timer = setInterval(() => {
        const data = { src: 'tab', tab, n: ids.length + 1 } satisfies TabChangeData;
        ids.push(window.harness.publish(topic, data));
      }, intervalMs);
      window.chaosStream = { ids, timer };
    },
    [topic, tab, intervalMs] as const,
  );
}

/** Stops the stream of `page` and waits until each of its publishes settled; returns their logs in order. */
export async function stopTabStream(page: Page, timeout = 30_000): Promise<PublishLog[]> {
  await page.evaluate(() => {
    clearInterval(window.chaosStream?.timer);
    if (window.chaosStream) window.chaosStream.timer = undefined;
  });
  await page.waitForFunction(
    () => (window.chaosStream?.ids ?? []).every((id) => window.publishes[id]?.outcome !== undefined),
    undefined,
    { timeout, polling: 50 },
  );
  return page.evaluate(() => (window.chaosStream?.ids ?? []).map((id) => window.publishes[id]!));
}
