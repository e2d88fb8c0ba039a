import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compile } from 'svelte/compiler';
import { render } from 'svelte/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { untouchableClient } from './memory-client.js';

const binding = fileURLToPath(new URL('../../../src/svelte/index.ts', import.meta.url));
const outDir = fileURLToPath(new URL('../../../.tmp/unit-svelte-ssr/', import.meta.url));

/** A component using every store with `$store`, compiled for the server. */
const COMPONENT = `<script>
  import * as B from ${JSON.stringify(binding)};
  let { client } = $props();
  B.setSessionClient(client);
  B.useSessionError(() => undefined);
  const status = B.useConnectionStatus();
  const session = B.useSession();
  const live = B.useTopic('room');
  const feed = B.useInfiniteTopic('chat');
  const log = B.usePaginatedTopic('log');
</script>
<p>{$status} {$session?.userId ?? 'none'} {$live.changes.length} {$feed.loading} {$log.page}</p>
`;

describe('shared-session/svelte in server rendering', () => {
  afterEach(() => vi.restoreAllMocks());

  it('renders every store from its server snapshot without touching the client, with no warning', async () => {
    const { js, warnings } = compile(COMPONENT, { generate: 'server', filename: 'All.svelte' });
    // The client prop is read once on purpose (the context is set once): that warning is expected.
    expect(warnings.map((w) => w.code).filter((code) => code !== 'state_referenced_locally')).toEqual([]);
    await mkdir(outDir, { recursive: true });
    const file = path.join(outDir, 'All.js');
    await writeFile(file, js.code);
    const { default: All } = await import(/* @vite-ignore */ pathToFileURL(file).href);
    const consoleWarn = vi.spyOn(console, 'warn');
    const consoleError = vi.spyOn(console, 'error');
    const { body } = render(All, { props: { client: untouchableClient() } });
    expect(body.replace(/<!--[^>]*-->/g, '')).toBe('<p>UNINITIALIZED none 0 true 0</p>');
    expect(consoleWarn).not.toHaveBeenCalled();
    expect(consoleError).not.toHaveBeenCalled();
  });
});
