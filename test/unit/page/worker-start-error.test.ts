import { describe, expect, it } from 'vitest';
import { HostUnavailableError } from '../../../src/errors/index.js';
import { workerStartError } from '../../../src/page/host-connection.js';

// The browser side (a 404 under plain Rollup, an esbuild iife bundle without import.meta.url) runs in
// the bundler matrix (test/e2e/bundlers); this is the message each of them produces.
describe('workerStartError', () => {
  it("without workerUrl names the package's bundle, says to pass workerUrl and points to the README", () => {
    const cause = new TypeError('Failed to construct URL: Invalid base URL');
    const error = workerStartError('the shared-session SharedWorker', undefined, cause);
    expect(error).toBeInstanceOf(HostUnavailableError);
    expect(error.code).toBe('HOST_UNAVAILABLE');
    expect(error.cause).toBe(cause);
    expect(error.message).toBe(
      "the shared-session SharedWorker failed to start from the package's worker bundle, " +
        "new URL('../worker.js', import.meta.url) beside shared-session's page code (a 404, a syntax error or a " +
        "wrong MIME type): if the app's bundler did not emit it (esbuild, plain Rollup), serve a copy of " +
        'shared-session/worker.js and pass its URL as `workerUrl` (see "Bundlers" in the shared-session README)',
    );
  });

  it('with workerUrl names that URL and what it must serve', () => {
    const url = new URL('https://app.example/assets/shared-session-worker.js');
    const error = workerStartError('the shared-session leader worker', url, undefined);
    expect(error.message).toContain(`the shared-session leader worker failed to start from ${url.href} `);
    expect(error.message).toContain('`workerUrl` must serve a copy of shared-session/worker.js as JavaScript');
    expect(error.message).toContain('see "Bundlers" in the shared-session README');
  });
});
