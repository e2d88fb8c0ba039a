import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const PAGE_ENTRY = fileURLToPath(new URL('../../../src/page/index.ts', import.meta.url));

/**
 * Runs `script` (an ES module) in a plain Node process — no Vitest module interop, which would hide
 * what a server-side render sees (e.g. a named import from a CommonJS package) — with tsx to load
 * the TypeScript sources. The script gets the page entry's URL as `entry` and prints JSON.
 */
async function inPlainNode(script: string): Promise<unknown> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', `const entry = ${JSON.stringify(PAGE_ENTRY)};\n${script}`],
    { timeout: 20_000 },
  );
  return JSON.parse(stdout);
}

describe('the page entry in Node (SSR)', () => {
  it('imports without touching a browser global or loading workbox-window', async () => {
    const result = await inPlainNode(`
      const { createRequire } = await import('node:module');
      const page = await import(entry);
      // CommonJS modules loaded from ES modules land in the require cache.
      const loaded = () => Object.keys(createRequire(entry).cache).some((file) => file.includes('workbox-window'));
      const workboxLoadedOnImport = loaded();
      const serviceWorker = String(await page.registerServiceWorker('/sw.js')); // no navigator.serviceWorker here
      console.log(JSON.stringify({
        SessionClient: typeof page.SessionClient,
        registerServiceWorker: typeof page.registerServiceWorker,
        HOST_CALL_TIMEOUT_MS: page.HOST_CALL_TIMEOUT_MS,
        workboxLoadedOnImport,
        serviceWorker,
        workboxLoaded: loaded(),
      }));
    `);
    expect(result).toEqual({
      SessionClient: 'function',
      registerServiceWorker: 'function',
      HOST_CALL_TIMEOUT_MS: 15_000,
      workboxLoadedOnImport: false,
      serviceWorker: 'undefined',
      workboxLoaded: false,
    });
  });

  it('throws a HostUnavailableError saying it needs a browser from new SessionClient(...), not a ReferenceError', async () => {
    const result = await inPlainNode(`
      const { SessionClient, HostUnavailableError } = await import(entry);
      try {
        new SessionClient({ serverUrl: 'http://127.0.0.1:8787' });
        console.log(JSON.stringify({ constructed: true }));
      } catch (error) {
        console.log(JSON.stringify({
          name: error.name,
          code: error.code,
          message: error.message,
          typed: error instanceof HostUnavailableError,
        }));
      }
    `);
    expect(result).toMatchObject({ name: 'HostUnavailableError', code: 'HOST_UNAVAILABLE', typed: true });
    expect((result as { message: string }).message).toMatch(/needs a browser/);
  });
});
