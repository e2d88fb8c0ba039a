// `npm run screenshot`: the README's picture of the demo in two tabs side by side (docs/demo-two-tabs.png),
// the right one with the devtools panel open, taken in headless Chromium against a fresh demo (its own
// ports and data directory). Tokens live 8 s so that a refresh shows in the panel's history.
import { chromium, type Frame } from '@playwright/test';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemo } from '../demo/server.ts';

const output = fileURLToPath(new URL('../docs/demo-two-tabs.png', import.meta.url));
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shared-session-demo-'));
const demo = await startDemo({ port: 0, serverPort: 0, dataDir, tokenTtlSeconds: 8 });
const executablePath =
  process.env.CHROMIUM_PATH ?? (existsSync(chromium.executablePath()) ? undefined : '/usr/bin/chromium');
const browser = await chromium.launch({ ...(executablePath && { executablePath }), args: ['--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1000 } });
  await page.goto(`${demo.url}pair.html`);
  const frames = () => page.frames().filter((frame) => frame !== page.mainFrame());
  await page.waitForFunction(() => document.querySelectorAll('iframe').length === 2);
  const [left, right] = frames() as [Frame, Frame];
  await left.waitForSelector('#signin-button');
  await right.waitForSelector('#signin-button');
  // One sign-in: the other tab follows the session and its feed by itself.
  await left.click('#signin-button');
  for (const frame of [left, right]) {
    await frame.waitForFunction(() => document.querySelector('#status-badge')?.textContent === 'OPEN');
    await frame.waitForFunction(() => document.querySelector('[data-field="tabs"]')?.textContent === '2');
  }
  for (const [frame, text] of [
    [left, 'Hello from the left tab'],
    [right, 'And from the right one'],
    [left, 'One socket for both of us'],
  ] as const) {
    await frame.fill('#message', text);
    await frame.click('#publish-button');
  }
  for (const frame of [left, right]) {
    await frame.waitForFunction(() => document.querySelectorAll('#feed li').length === 3);
  }
  // The devtools panel is one click away; wait until it shows the first token refresh.
  const devtools = right.locator('shared-session-devtools');
  await devtools.locator('[part="summary"]').click();
  await devtools.locator('[data-section="token"] tbody tr').first().waitFor({ timeout: 20_000 });
  await devtools.locator('[data-section="topics"] tbody tr').first().waitFor();
  for (const frame of [left, right]) {
    // The status panels read the host once a second: wait until they show the refresh too.
    await frame.waitForFunction(() => document.querySelector('[data-field="refreshes"]')?.textContent === '1');
  }
  await page.screenshot({ path: output });
  console.log(`[screenshot] ${path.relative(process.cwd(), output)} (server sockets: ${demo.server.stats().sockets})`);
} finally {
  await browser.close();
  await demo.close();
  await rm(dataDir, { recursive: true, force: true });
}
