#!/usr/bin/env node
// Installs what `npm start` / `npm test` need on a fresh machine and nothing more:
// node modules when missing or stale, (with --browser) a Chromium for Playwright:
// $CHROMIUM_PATH, else Playwright's own download, else Debian's /usr/bin/chromium (installed with
// apt-get when missing and possible), and (with --services or --browser) redis-server and nginx.
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

// With --services (and with --browser, which `npm test` passes): Debian's redis-server and nginx for
// the scale-out tests (test/unit/scale-out, test/e2e/scale-out) and bench/load. $REDIS_SERVER_PATH /
// $NGINX_PATH or the PATH first; installed with apt-get when missing and possible. Without them
// those tests skip with the reason, so a failed install only warns.
if (process.argv.includes('--services') || process.argv.includes('--browser')) {
  const findOnPath = (name) => {
    try {
      return (
        execSync(`command -v ${name}`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined
      );
    } catch {
      return undefined;
    }
  };
  const services = [
    { name: 'redis-server', pkg: 'redis-server', env: 'REDIS_SERVER_PATH', paths: ['/usr/bin/redis-server'] },
    { name: 'nginx', pkg: 'nginx', env: 'NGINX_PATH', paths: ['/usr/sbin/nginx'] },
  ];
  const missing = [];
  for (const service of services) {
    const found =
      (process.env[service.env] && existsSync(process.env[service.env]) && process.env[service.env]) ||
      service.paths.find((p) => existsSync(p)) ||
      findOnPath(service.name);
    if (found) log(`using ${service.name} at ${found}`);
    else missing.push(service);
  }
  if (missing.length > 0) {
    const names = missing.map((s) => s.pkg).join(' ');
    const isRoot = process.getuid?.() === 0;
    if (process.platform === 'linux' && existsSync('/usr/bin/apt-get') && (isRoot || findOnPath('sudo'))) {
      log(`installing Debian's ${names} with apt-get (for the scale-out tests)`);
      const sudo = isRoot ? '' : 'sudo ';
      try {
        // policy-rc.d (or the lack of an init system) keeps apt from starting the system services.
        run(`${sudo}apt-get update -qq && ${sudo}apt-get install -y -qq --no-install-recommends ${names}`, {
          DEBIAN_FRONTEND: 'noninteractive',
        });
      } catch {
        log(`could not install ${names}: the scale-out tests will be skipped`);
      }
    } else {
      log(`${names} not found and apt-get not usable: the scale-out tests will be skipped`);
    }
  }
}
