import { svelte } from '@sveltejs/vite-plugin-svelte';
import vue from '@vitejs/plugin-vue';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type Rolldown } from 'vite';
import { expect, test } from './fixtures.ts';
import { sharedSessionAliases } from './build-apps.ts';

const WORK_DIR = fileURLToPath(new URL('../../../.tmp/e2e-bundle-size/', import.meta.url));
const CLIENT =
  "import { SessionClient } from 'shared-session';\nconst client = new SessionClient({ serverUrl: 'ws://127.0.0.1:1' });\n";

/**
 * Per framework, three apps of the same shape: the session client wired by hand (the baseline),
 * the binding's status hook only, and every hook of the binding. The difference of their min+gzip
 * JavaScript is what the binding adds to an app (the worker bundle, the same in all, is left out).
 */
const APPS: Record<string, Record<'baseline' | 'status' | 'all', Record<string, string>>> = {
  react: {
    baseline: {
      'main.js':
        "import { createElement, useEffect, useState } from 'react';\nimport { createRoot } from 'react-dom/client';\n" +
        CLIENT +
        'function Status() {\n  const [status, setStatus] = useState(client.connectionStatus);\n' +
        '  useEffect(() => client.onConnectionStatusChange(setStatus, true), []);\n  return status;\n}\n' +
        'createRoot(document.body).render(createElement(Status));\n',
    },
    status: {
      'main.js':
        "import { createElement } from 'react';\nimport { createRoot } from 'react-dom/client';\n" +
        "import { SessionProvider, useConnectionStatus } from 'shared-session/react';\n" +
        CLIENT +
        'function Status() {\n  return useConnectionStatus();\n}\n' +
        'createRoot(document.body).render(createElement(SessionProvider, { client }, createElement(Status)));\n',
    },
    all: {
      'main.js':
        "import { createElement } from 'react';\nimport { createRoot } from 'react-dom/client';\n" +
        "import * as B from 'shared-session/react';\n" +
        CLIENT +
        'function All() {\n  B.useSessionError(() => undefined);\n  const s = B.useSession();\n' +
        "  const t = B.useTopic('a');\n  const i = B.useInfiniteTopic('b');\n  const p = B.usePaginatedTopic('c');\n" +
        '  return [B.useConnectionStatus(), s?.userId, t.changes.length, i.hasMore, p.page, B.useSessionClient() === client].join();\n}\n' +
        'createRoot(document.body).render(createElement(B.SessionProvider, { client }, createElement(All)));\n',
    },
  },
  vue: {
    baseline: {
      'main.js':
        "import { createApp, h, onScopeDispose, ref } from 'vue';\n" +
        CLIENT +
        'createApp({ setup() {\n  const status = ref(client.connectionStatus);\n' +
        '  onScopeDispose(client.onConnectionStatusChange((s) => (status.value = s)));\n' +
        "  return () => h('p', status.value);\n} }).mount(document.body);\n",
    },
    status: {
      'main.js':
        "import { createApp, h } from 'vue';\nimport { SESSION_CLIENT_KEY, useConnectionStatus } from 'shared-session/vue';\n" +
        CLIENT +
        "const app = createApp({ setup() {\n  const status = useConnectionStatus();\n  return () => h('p', status.value);\n} });\n" +
        'app.provide(SESSION_CLIENT_KEY, client).mount(document.body);\n',
    },
    all: {
      'main.js':
        "import { createApp, h } from 'vue';\nimport * as B from 'shared-session/vue';\n" +
        CLIENT +
        'const app = createApp({ setup() {\n  B.useSessionError(() => undefined);\n  const st = B.useConnectionStatus();\n' +
        "  const s = B.useSession();\n  const t = B.useTopic('a');\n  const i = B.useInfiniteTopic('b');\n  const p = B.usePaginatedTopic('c');\n" +
        "  return () => h('p', [st.value, s.value?.userId, t.changes.value.length, i.hasMore.value, p.page.value].join());\n} });\n" +
        'app.provide(B.SESSION_CLIENT_KEY, client).mount(document.body);\n',
    },
  },
  svelte: {
    baseline: {
      'main.js':
        "import { mount } from 'svelte';\nimport App from './App.svelte';\nmount(App, { target: document.body });\n",
      'App.svelte':
        "<script>\n  import { SessionClient } from 'shared-session';\n  const client = new SessionClient({ serverUrl: 'ws://127.0.0.1:1' });\n" +
        '  let status = $state(client.connectionStatus);\n  $effect(() => client.onConnectionStatusChange((s) => (status = s)));\n</script>\n<p>{status}</p>\n',
    },
    status: {
      'main.js':
        "import { mount } from 'svelte';\nimport App from './App.svelte';\nmount(App, { target: document.body });\n",
      'App.svelte':
        "<script>\n  import { SessionClient } from 'shared-session';\n  import { useConnectionStatus } from 'shared-session/svelte';\n" +
        "  const status = useConnectionStatus(new SessionClient({ serverUrl: 'ws://127.0.0.1:1' }));\n</script>\n<p>{$status}</p>\n",
    },
    all: {
      'main.js':
        "import { mount } from 'svelte';\nimport App from './App.svelte';\nmount(App, { target: document.body });\n",
      'App.svelte':
        "<script>\n  import { SessionClient } from 'shared-session';\n  import * as B from 'shared-session/svelte';\n" +
        "  B.setSessionClient(new SessionClient({ serverUrl: 'ws://127.0.0.1:1' }));\n  B.useSessionError(() => undefined);\n" +
        "  const st = B.useConnectionStatus();\n  const s = B.useSession();\n  const t = B.useTopic('a');\n" +
        "  const i = B.useInfiniteTopic('b');\n  const p = B.usePaginatedTopic('c');\n</script>\n" +
        '<p>{$st} {$s?.userId} {$t.changes.length} {$i.hasMore} {$p.page}</p>\n',
    },
  },
};

/** Builds `files` as an app (Vite, production, minified) and returns its JavaScript, min+gzip bytes, without the worker. */
async function appSize(name: string, files: Record<string, string>): Promise<number> {
  const root = path.join(WORK_DIR, name);
  await mkdir(root, { recursive: true });
  await writeFile(path.join(root, 'index.html'), '<!doctype html><script type="module" src="./main.js"></script>\n');
  for (const [file, text] of Object.entries(files)) await writeFile(path.join(root, file), text);
  const result = await build({
    configFile: false,
    root,
    logLevel: 'silent',
    mode: 'production',
    plugins: [vue(), svelte()],
    resolve: { alias: sharedSessionAliases() },
    build: { write: false, target: 'es2022', minify: true },
  });
  const outputs = (Array.isArray(result) ? result : [result]) as Rolldown.RolldownOutput[];
  let bytes = 0;
  for (const output of outputs) {
    for (const item of output.output) {
      if (item.type !== 'chunk' || /worker/i.test(item.fileName)) continue;
      bytes += gzipSync(item.code, { level: 9 }).length;
    }
  }
  return bytes;
}

test.describe('bundle size', () => {
  test.afterAll(() => rm(WORK_DIR, { recursive: true, force: true }));

  test('what each binding adds to an app, min+gzip (printed, not asserted)', async () => {
    test.setTimeout(120_000);
    const rows: string[] = [];
    for (const [framework, apps] of Object.entries(APPS)) {
      const baseline = await appSize(`${framework}-baseline`, apps.baseline);
      const status = await appSize(`${framework}-status`, apps.status);
      const all = await appSize(`${framework}-all`, apps.all);
      expect(all).toBeGreaterThan(baseline); // the measurement measured something
      rows.push(
        `shared-session/${framework}: app ${(baseline / 1024).toFixed(1)} KiB min+gzip; the binding adds ` +
          `${status - baseline} B (useConnectionStatus only), ${all - baseline} B (every hook)`,
      );
    }
    console.log(`measure: bundle size (Vite production build, worker excluded)\n  ${rows.join('\n  ')}`);
  });
});
