#!/usr/bin/env node
// Installs what `npm start` / `npm test` need on a fresh machine and nothing more:
// node modules when missing or stale; with --browser the three engines of the e2e suite —
// Chromium ($CHROMIUM_PATH, else Playwright's own build, else Debian's chromium), Firefox
// ($FIREFOX_PATH, else Playwright's own build, else Debian's firefox-esr) and WebKit (Playwright's own
// build, else Debian's webkit2gtk-driver MiniBrowser under xvfb) — installed with apt-get where it is
// usable (root or sudo) and said so where not; and (with --services or --browser) redis-server and nginx.
// test/e2e/engines/engines.ts picks the browsers with the same rules.
import { execSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, env = {}) => execSync(cmd, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
const log = (msg) => console.log(`[ensure-deps] ${msg}`);
const isRoot = process.getuid?.() === 0;

function findOnPath(name) {
  try {
    return (
      execSync(`command -v ${name}`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}

/** Why apt-get cannot be used here, or undefined when it can (Linux, apt-get, root or sudo). */
function aptUnusable() {
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) return 'apt-get is not available';
  if (!isRoot && !findOnPath('sudo')) return 'apt-get needs root or sudo';
  return undefined;
}

let aptUpdated = false;
/**
 * Installs Debian `packages` with apt-get; returns false (after saying why) when it could not.
 * Browsers take their recommended packages (fonts, codecs); services do not.
 */
function aptInstall(packages, why, { recommends = false } = {}) {
  const unusable = aptUnusable();
  if (unusable) {
    log(`${packages.join(' ')} not installed (${why}): ${unusable}`);
    return false;
  }
  const sudo = isRoot ? '' : 'sudo ';
  log(`installing Debian's ${packages.join(' ')} with apt-get (${why})`);
  try {
    // policy-rc.d (or the lack of an init system) keeps apt from starting the system services.
    if (!aptUpdated) run(`${sudo}apt-get update -qq`, { DEBIAN_FRONTEND: 'noninteractive' });
    aptUpdated = true;
    run(`${sudo}apt-get install -y -qq ${recommends ? '' : '--no-install-recommends '}${packages.join(' ')}`, {
      DEBIAN_FRONTEND: 'noninteractive',
    });
    return true;
  } catch {
    log(`could not install ${packages.join(' ')} (${why})`);
    return false;
  }
}

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
  const { chromium, firefox, webkit } = await import('@playwright/test');
  /** Playwright's own build of `browserType` when `npx playwright install` put it here. */
  const playwrightBuild = (browserType) => {
    try {
      const path = browserType.executablePath();
      return path && existsSync(path) ? path : undefined;
    } catch {
      return undefined;
    }
  };
  const fromEnv = (name) => (process.env[name] && existsSync(process.env[name]) ? process.env[name] : undefined);

  const chromiumFound =
    fromEnv('CHROMIUM_PATH') ??
    playwrightBuild(chromium) ??
    (existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined);
  if (chromiumFound) log(`Chromium: ${chromiumFound}`);
  else if (!aptInstall(['chromium'], 'Chromium for the e2e suite', { recommends: true })) {
    log('no Chromium found: run `npx playwright install chromium` or set CHROMIUM_PATH');
    process.exit(1);
  }

  // Firefox and WebKit: without them their e2e scenarios skip with the reason, so a failed install only warns.
  const firefoxFound =
    fromEnv('FIREFOX_PATH') ?? playwrightBuild(firefox) ?? findOnPath('firefox-esr') ?? findOnPath('firefox');
  if (firefoxFound) log(`Firefox: ${firefoxFound}`);
  else if (!aptInstall(['firefox-esr'], 'Firefox for the e2e engines', { recommends: true })) {
    log('the Firefox scenarios will be skipped (or run `npx playwright install firefox`, or set FIREFOX_PATH)');
  }

  const miniBrowser = process.env.WEBKIT_MINIBROWSER_PATH || '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
  const webkitBuild = playwrightBuild(webkit);
  const webkitMissing = [
    ...(findOnPath('WebKitWebDriver') && existsSync(miniBrowser) ? [] : ['webkit2gtk-driver']),
    ...(findOnPath('Xvfb') ? [] : ['xvfb']),
  ];
  if (webkitBuild) log(`WebKit: Playwright's build at ${webkitBuild}`);
  else if (webkitMissing.length === 0) log(`WebKit: WebKitWebDriver and ${miniBrowser} under Xvfb`);
  else if (!aptInstall(webkitMissing, 'WebKit for the e2e engines', { recommends: true })) {
    log('the WebKit scenarios will be skipped (or run `npx playwright install webkit`)');
  }
}

// With --services (and with --browser, which `npm test` passes): Debian's redis-server and nginx for
// the scale-out tests (test/unit/scale-out, test/e2e/scale-out) and bench/load. $REDIS_SERVER_PATH /
// $NGINX_PATH or the PATH first; installed with apt-get when missing and possible. Without them
// those tests skip with the reason, so a failed install only warns.
if (process.argv.includes('--services') || process.argv.includes('--browser')) {
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
  if (
    missing.length > 0 &&
    !aptInstall(
      missing.map((s) => s.pkg),
      'for the scale-out tests',
    )
  ) {
    log('the scale-out tests will be skipped');
  }
}
