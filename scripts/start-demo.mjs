#!/usr/bin/env node
// `npm start`: builds the demo app against dist/, starts the reference server and serves the demo
// with a token endpoint that mints short-lived HS256 tokens (so refreshes are visible).
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { build } from 'vite';
import { createSessionServer } from '../dist/server/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const DEMO_PORT = Number(process.env.PORT ?? 5173);
const SERVER_PORT = Number(process.env.SERVER_PORT ?? 8787);
const DATA_DIR = process.env.DATA_DIR ?? join(root, 'data');
const TOKEN_TTL_SECONDS = Number(process.env.TOKEN_TTL_SECONDS ?? 30);
const say = (msg) => console.log(`[demo] ${msg}`);

// Keep the secret with the data, so that a restart keeps tokens (and sessions) valid.
mkdirSync(DATA_DIR, { recursive: true });
const secretFile = join(DATA_DIR, 'demo-secret');
if (!existsSync(secretFile)) writeFileSync(secretFile, randomBytes(32).toString('hex'), { mode: 0o600 });
const secret = process.env.SHARED_SESSION_SECRET ?? readFileSync(secretFile, 'utf8').trim();

say('building the demo app');
await build({ configFile: join(root, 'demo/vite.config.ts') });
const outDir = join(root, '.tmp/demo');

const storeDir = join(DATA_DIR, 'topics');
const server = await createSessionServer({ port: SERVER_PORT, auth: { secret }, store: { path: storeDir } });
say(`reference server listening on ${server.url} (durable LMDB store in ${storeDir})`);

const MIME = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
};
const key = new TextEncoder().encode(secret);
const web = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/api/config') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify({ serverUrl: server.url, tokenTtlSeconds: TOKEN_TTL_SECONDS }));
    }
    if (url.pathname === '/api/token') {
      const sub = (url.searchParams.get('sub') ?? '').slice(0, 64);
      if (!/^[\w.@-]+$/.test(sub)) {
        res.writeHead(400, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ error: '"sub" must be 1–64 letters, digits, ".", "@", "_" or "-"' }));
      }
      const roles = (url.searchParams.get('roles') ?? 'member').split(',').filter(Boolean).slice(0, 8);
      const token = await new SignJWT({ roles })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime(`${TOKEN_TTL_SECONDS}s`)
        .sign(key);
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(JSON.stringify({ token }));
    }
    const path = normalize(join(outDir, url.pathname === '/' ? 'index.html' : url.pathname));
    if (!path.startsWith(outDir) || !existsSync(path)) {
      res.writeHead(404);
      return res.end('not found');
    }
    res.writeHead(200, { 'content-type': MIME[extname(path)] ?? 'application/octet-stream' });
    res.end(readFileSync(path));
  } catch (error) {
    res.writeHead(500);
    res.end(String(error));
  }
});
web.listen(DEMO_PORT, '127.0.0.1', () => {
  say(`demo ready: open http://127.0.0.1:${DEMO_PORT}/ in two or more tabs (tokens live ${TOKEN_TTL_SECONDS} s)`);
  say('press Ctrl+C to stop');
});
const stop = async () => {
  say('stopping');
  web.close();
  await server.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
