/**
 * Helpers for the specs that drive the demo (`demo/server.ts`): a fresh data dir per run, the demo's
 * panel fields, its feed, and its devtools panel.
 */
import type { Page } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDemo, type Demo, type DemoOptions } from '../../demo/server.ts';
import { expect } from './fixtures.ts';

export { startDemo, type Demo, type DemoOptions };

/** A fresh directory for the demo's LMDB store and secret; removed by the returned function. */
export async function demoDataDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'shared-session-demo-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** The status panel's value cell `name` (`data-field`). */
export function panelField(page: Page, name: string) {
  return page.locator(`[data-field="${name}"]`);
}

/** Navigates `page` to the demo and waits until its script ran (the panel shows the host). */
export async function openDemo(page: Page, url: string): Promise<void> {
  await page.goto(url);
  // The HTML's placeholder for the host is "–"; the app fills it in from debugHostStats().
  await expect(panelField(page, 'host')).not.toHaveText('–');
}

/** Signs in with the demo's form (user `alice`, role `member` unless changed) and waits for OPEN. */
export async function signIn(page: Page): Promise<void> {
  await page.locator('#signin-button').click();
  await expect(page.locator('#status-badge')).toHaveText('OPEN', { timeout: 10_000 });
}

/** Publishes `text` with the demo's feed form. */
export async function publishInDemo(page: Page, text: string): Promise<void> {
  await page.locator('#message').fill(text);
  await page.locator('#publish-button').click();
}

/** Signs out with the demo's `endSession` button. */
export async function signOut(page: Page): Promise<void> {
  await page.locator('#end-session').click();
}

/** The feed's items as shown (newest first), without their time. */
export async function feedTexts(page: Page): Promise<string[]> {
  return page
    .locator('#feed > li')
    .evaluateAll((items) => items.map((li) => (li.firstChild?.textContent ?? '').trim()));
}

/** The seqs of the feed's items as shown (each item's `value`), newest first. */
export async function feedSeqs(page: Page): Promise<number[]> {
  return page.locator('#feed > li').evaluateAll((items) => items.map((li) => (li as HTMLLIElement).value));
}

/** `[n, n-1, …, 1]`: a feed that shows a topic of `n` changes whole, once, newest first. */
export function wholeTopic(n: number): number[] {
  return Array.from({ length: n }, (_, i) => n - i);
}

/** The demo's devtools panel (`<shared-session-devtools>`, docked at the bottom). */
export function devtools(page: Page) {
  return page.locator('shared-session-devtools');
}
