/**
 * The SharedWorker host's JavaScript heap, measured over CDP after forced garbage collections
 * (`HeapProfiler.collectGarbage`, `Runtime.getHeapUsage`). Playwright does not see SharedWorkers,
 * so this goes through the testing kit's own target plumbing (the built `testing/host-targets.js`).
 */
import type { BrowserContext } from '@playwright/test';
import type * as HostTargets from '../../../src/testing/host-targets.ts';
import { loadBuilt } from './built.ts';

const { attachToTarget, cdpSessionOf, sharedWorkerTargets, SHARED_WORKER_NAME } =
  await loadBuilt<typeof HostTargets>('testing/host-targets.js');

/** Pause between the two collections: comlink releases proxies from a FinalizationRegistry callback after the first. */
const BETWEEN_COLLECTIONS_MS = 100;

/** What `Runtime.getHeapUsage` reports, in bytes. */
export interface HeapUsage {
  usedSize: number;
  totalSize: number;
}

/**
 * Collects garbage in the SharedWorker host of `context` (twice, so that finalizers' work is
 * collected too) and returns its heap usage. Run it while no tab is opening or closing: it talks
 * through the context's first page.
 */
export async function hostHeapAfterGc(context: BrowserContext): Promise<HeapUsage> {
  const cdp = await cdpSessionOf(context, 'hostHeapAfterGc');
  try {
    const [target] = await sharedWorkerTargets(cdp, SHARED_WORKER_NAME);
    if (!target) throw new Error('hostHeapAfterGc: no SharedWorker host runs in the context');
    const worker = await attachToTarget(cdp, target.targetId);
    try {
      await worker.send('HeapProfiler.collectGarbage');
      await new Promise((resolve) => setTimeout(resolve, BETWEEN_COLLECTIONS_MS));
      await worker.send('HeapProfiler.collectGarbage');
      return await worker.send<HeapUsage>('Runtime.getHeapUsage');
    } finally {
      await worker.detach();
    }
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

/** `1,234 KiB` */
export function kib(bytes: number): string {
  return `${Math.round(bytes / 1024).toLocaleString('en-US')} KiB`;
}
