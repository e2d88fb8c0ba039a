#!/usr/bin/env node
// Installs what `npm start` / `npm test` need on a fresh machine and nothing more:
// node modules when missing or stale, and (with --browser) a Chromium for Playwright:
// $CHROMIUM_PATH, else Playwright's own download, else Debian's /usr/bin/chromium (installed with
// apt-get when missing and possible).
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, env = {}) => execSync(cmd, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
const log = (msg) => console.log(`[ensure-deps] ${msg}`);

function modulesAreCurrent() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return false;
  const lock = join(root, 'package-lock.json');
  const manifest = join(root, 'package.json');
  const installedAt = statSync(marker).mtimeMs;
  return [lock, manifest].every((f) => !existsSync(f) || statSync(f).mtimeMs <= installedAt + 1000);
}

if (!modulesAreCurrent()) {
  log('installing node modules');
  const cmd = existsSync(join(root, 'package-lock.json')) ? 'npm ci' : 'npm install';
  run(`${cmd} --no-audit --no-fund`, { PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' });
}

if (process.argv.includes('--browser')) {
  const { chromium } = await import('@playwright/test');
  const bundled = (() => {
    try {
      return chromium.executablePath();
    } catch {
      return undefined;
    }
  })();
  if (process.env.CHROMIUM_PATH && existsSync(process.env.CHROMIUM_PATH)) {
    log(`using CHROMIUM_PATH=${process.env.CHROMIUM_PATH}`);
  } else if (bundled && existsSync(bundled)) {
    log(`using Playwright's Chromium at ${bundled}`);
  } else if (existsSync('/usr/bin/chromium')) {
    log('using /usr/bin/chromium');
  } else if (process.platform === 'linux' && existsSync('/usr/bin/apt-get')) {
    log("installing Debian's chromium with apt-get (about a minute)");
    const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
    run(`${sudo}apt-get update -qq && ${sudo}apt-get install -y -qq chromium`, { DEBIAN_FRONTEND: 'noninteractive' });
  } else {
    log('no Chromium found: run `npx playwright install chromium` or set CHROMIUM_PATH');
    process.exit(1);
  }
}
