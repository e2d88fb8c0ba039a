// `npm run screenshot`: the README's picture of the demo in two tabs side by side (docs/demo-two-tabs.png),
// taken in headless Chromium against a fresh demo (its own ports and data directory).
import { chromium, type Frame } from '@playwright/test';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDemo } from '../demo/server.ts';

const output = fileURLToPath(new URL('../docs/demo-two-tabs.png', import.meta.url));
const dataDir = await mkdtemp(path.join(os.tmpdir(), 'shared-session-demo-'));
const demo = await startDemo({ port: 0, serverPort: 0, dataDir, tokenTtlSeconds: 30 });
const executablePath =
  process.env.CHROMIUM_PATH ?? (existsSync(chromium.executablePath()) ? undefined : '/usr/bin/chromium');
const browser = await chromium.launch({ ...(executablePath && { executablePath }), args: ['--disable-gpu'] });
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } });
  await page.goto(`${demo.url}pair.html`);
  const frames = () => page.frames().filter((frame) => frame !== page.mainFrame());
  await page.waitForFunction(() => document.querySelectorAll('iframe').length === 2);
  const [left, right] = frames() as [Frame, Frame];
  await left.waitForSelector('#signin-button');
  await right.waitForSelector('#signin-button');
  await left.click('#signin-button');
  await right.click('#signin-button');
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
  await page.waitForTimeout(1100); // let the panels' once-a-second counters refresh
  await page.screenshot({ path: output });
  console.log(`[screenshot] ${path.relative(process.cwd(), output)} (server sockets: ${demo.server.stats().sockets})`);
} finally {
  await browser.close();
  await demo.close();
  await rm(dataDir, { recursive: true, force: true });
}
