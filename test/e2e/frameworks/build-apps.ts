import { svelte } from '@sveltejs/vite-plugin-svelte';
import vue from '@vitejs/plugin-vue';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type InlineConfig } from 'vite';
import { DIST_DIR } from '../paths.ts';

const fromHere = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
/** The apps' sources (one folder per framework). */
const APPS_DIR = fromHere('./apps/');
/** Where the apps are built (served by the fixtures). */
export const FRAMEWORK_APPS_OUT_DIR = fromHere('../../../.tmp/e2e-frameworks/');
const SSR_OUT_DIR = fromHere('../../../.tmp/e2e-frameworks-ssr/');

/**
 * `shared-session` and its entries resolve to the BUILT package (global setup's snapshot of
 * `dist/`), as they would from an app's node_modules; the frameworks resolve from the repository's.
 */
export function sharedSessionAliases(dist: string = DIST_DIR): { find: RegExp; replacement: string }[] {
  return [
    { find: /^shared-session\/(react|vue|svelte|errors)$/, replacement: path.join(dist, '$1/index.js') },
    { find: /^shared-session(\/page)?$/, replacement: path.join(dist, 'page/index.js') },
  ];
}

function appsConfig(overrides: InlineConfig): InlineConfig {
  return {
    configFile: false,
    root: APPS_DIR,
    base: './',
    mode: 'production',
    logLevel: 'warn',
    plugins: [vue(), svelte()],
    resolve: { alias: sharedSessionAliases() },
    ...overrides,
  };
}

/** What {@link buildFrameworkApps} made. */
export interface FrameworkApps {
  /**
   * The production builds of the React, Vue and Svelte apps (`react/index.html`, …; `react/ssr.html`
   * with server-rendered markup) and a development build of the React app (`dev/react/index.html`).
   */
  outDir: string;
  /** Milliseconds the builds took. */
  buildMs: number;
}

/**
 * Builds the three apps with Vite in production mode (minified, `NODE_ENV=production`) and the
 * React app also in development mode, then
 * renders the React app in Node with `renderToString` (a server build of the same components) and
 * writes the markup into `react/ssr.html`, which the React app hydrates.
 */
export async function buildFrameworkApps(): Promise<FrameworkApps> {
  const started = performance.now();
  await build(
    appsConfig({
      build: {
        outDir: FRAMEWORK_APPS_OUT_DIR,
        emptyOutDir: true,
        target: 'es2022',
        rollupOptions: {
          input: {
            react: path.join(APPS_DIR, 'react/index.html'),
            vue: path.join(APPS_DIR, 'vue/index.html'),
            svelte: path.join(APPS_DIR, 'svelte/index.html'),
          },
        },
      },
    }),
  );
  // The React app once more as a development build: StrictMode mounts, unmounts and mounts every
  // effect again only there, and React's development warnings are on.
  await build(
    appsConfig({
      mode: 'development',
      define: { 'process.env.NODE_ENV': JSON.stringify('development') },
      build: {
        outDir: path.join(FRAMEWORK_APPS_OUT_DIR, 'dev'),
        emptyOutDir: true,
        target: 'es2022',
        minify: false,
        rollupOptions: { input: { react: path.join(APPS_DIR, 'react/index.html') } },
      },
    }),
  );
  await build(
    appsConfig({
      build: { ssr: path.join(APPS_DIR, 'react/server.jsx'), outDir: SSR_OUT_DIR, emptyOutDir: true, target: 'node20' },
    }),
  );
  const server = (await import(pathToFileURL(path.join(SSR_OUT_DIR, 'server.js')).href)) as { render(): string };
  const page = await readFile(path.join(FRAMEWORK_APPS_OUT_DIR, 'react/index.html'), 'utf8');
  if (!page.includes('<!--ssr-->')) throw new Error('react/index.html lost its <!--ssr--> placeholder');
  await writeFile(path.join(FRAMEWORK_APPS_OUT_DIR, 'react/ssr.html'), page.replace('<!--ssr-->', server.render()));
  return { outDir: FRAMEWORK_APPS_OUT_DIR, buildMs: performance.now() - started };
}
