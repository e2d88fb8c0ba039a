// The demo's back end: builds the demo app against dist/, starts the reference server on the
// durable LMDB store, and serves the app with a token endpoint that mints short-lived HS256 tokens
// (so refreshes are visible). Used by `npm start`, scripts/screenshot-demo.ts and the demo e2e test.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { build } from 'vite';
import { createSessionServer, type SessionServer } from 'shared-session/server';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** Port of the demo web server (0 = free). */
  port: number;
  /** Port of the reference server (0 = free). */
  serverPort: number;
  /** Where the LMDB topic store and the demo secret live. */
  dataDir: string;
  /** Lifetime of minted tokens. */
  tokenTtlSeconds: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** A running demo. */
export interface Demo {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  server: SessionServer;
  close(): Promise<void>;
}

const root = fileURLToPath(new URL('..', import.meta.url));
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};

/** Two tabs of the demo side by side in one view (for the README screenshot). */
const PAIR_PAGE = `<!doctype html><title>shared-session: two tabs</title>
<style>body{margin:0;display:flex;gap:8px;background:#cfd6de}iframe{flex:1;height:100vh;border:0;background:#fff}</style>
<iframe src="/" title="tab 1"></iframe><iframe src="/" title="tab 2"></iframe>`;

/** Builds and starts the demo; see {@link DemoOptions}. */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const say = options.log ?? (() => undefined);
  mkdirSync(options.dataDir, { recursive: true });
  // Keep the secret with the data, so that a restart keeps tokens (and sessions) valid.
  const secretFile = join(options.dataDir, 'demo-secret');
  if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
  const secret = process.env.SHARED_SESSION_SECRET ?? readFileSync(secretFile, 'utf8').trim();

  say('building the demo app');
  await build({ configFile: join(root, 'demo/vite.config.ts') });
  const outDir = join(root, '.tmp/demo');

  const storeDir = join(options.dataDir, 'topics');
  const server = await createSessionServer({
    port: options.serverPort,
    auth: { secret },
    store: { path: storeDir },
    ...(options.log ? {} : { logger: false as const }),
  });
  say(`reference server listening on ${server.url} (durable LMDB store in ${storeDir})`);

  const key = new TextEncoder().encode(secret);
  const web: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/api/config') {
        return json(200, { serverUrl: server.url, tokenTtlSeconds: options.tokenTtlSeconds });
      }
      if (url.pathname === '/api/token') {
        const sub = (url.searchParams.get('sub') ?? '').slice(0, 64);
        if (!/^[\w.@-]+$/.test(sub))
          return json(400, { error: '"sub" must be 1–64 letters, digits, ".", "@", "_" or "-"' });
        const roles = (url.searchParams.get('roles') ?? 'member').split(',').filter(Boolean).slice(0, 8);
        const token = await new SignJWT({ roles })
          .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
          .setSubject(sub)
          .setIssuedAt()
          .setExpirationTime(`${options.tokenTtlSeconds}s`)
          .sign(key);
        return json(200, { token });
      }
      if (url.pathname === '/pair.html') {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        return res.end(PAIR_PAGE);
      }
      const path = normalize(join(outDir, url.pathname === '/' ? 'index.html' : url.pathname));
      if (!path.startsWith(outDir) || !existsSync(path)) {
        res.writeHead(404);
        return res.end('not found');
      }
      res.writeHead(200, {
        'content-type': MIME[extname(path)] ?? 'application/octet-stream',
        'cache-control': 'no-cache',
      });
      res.end(readFileSync(path));
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    web.once('error', reject);
    web.listen(options.port, '127.0.0.1', resolve);
  });
  const { port } = web.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: async () => {
      web.closeAllConnections();
      await new Promise<void>((resolve) => web.close(() => resolve()));
      await server.close();
    },
  };
}
