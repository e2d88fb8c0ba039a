import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { EXIT_USAGE, runCli, type SessionServer } from '../../../src/server/index.js';
import { connectSession, mint, SECRET } from './helpers.js';

/** Runs the CLI in-process until it listens; `stop()` aborts it and resolves with its exit code. */
async function start(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const abort = new AbortController();
  let listening!: (server: SessionServer) => void;
  const server = new Promise<SessionServer>((resolve) => (listening = resolve));
  const exit = runCli(argv, {
    env,
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    logger: false,
    signals: [],
    signal: abort.signal,
    onListening: listening,
  });
  const first = await Promise.race([server, exit]);
  if (typeof first === 'number') throw new Error(`cli exited with ${first}: ${err.join('\n')}`);
  return {
    server: first,
    out,
    stop: () => {
      abort.abort();
      return exit;
    },
  };
}

async function fails(argv: string[], env: Record<string, string> = {}) {
  const err: string[] = [];
  const code = await runCli(argv, { env, out: () => {}, err: (l) => err.push(l), logger: false, signals: [] });
  return { code, err: err.join('\n') };
}

describe('runCli', () => {
  it('starts on port 0 with --secret, prints the URL, serves sessions, and exits 0 after shutdown', async () => {
    const cli = await start([
      '--port',
      '0',
      '--secret',
      SECRET,
      '--schema-version',
      '2',
      '--schema-version',
      '3',
      '--memory',
    ]);
    const http = cli.server.url.replace('ws', 'http');
    expect(cli.out[0]).toBe(
      `shared-session-server listening on ${cli.server.url} (health: ${http}/health, metrics: ${http}/metrics)`,
    );
    const { client, welcome } = await connectSession(cli.server, await mint(), { schemaVersion: 3 });
    expect(welcome.type).toBe('welcome');
    expect(await cli.stop()).toBe(0);
    expect((await client.closed).code).toBe(4503);
  });

  it('reads the secret from SHARED_SESSION_SECRET and keeps topics in LMDB at --data, across a restart', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shared-session-cli-data-'));
    const env = { SHARED_SESSION_SECRET: SECRET };
    const first = await start(['--port', '0', '--data', dir], env);
    expect(first.out[1]).toBe(`topics kept in the LMDB store at ${dir}`);
    expect(await first.server.publish('news', 'one')).toEqual({ seq: 1 });
    expect(await first.stop()).toBe(0);

    const second = await start(['--port', '0', '--data', dir], env);
    expect(await second.server.publish('news', 'two')).toEqual({ seq: 2 });
    const { client } = await connectSession(second.server, await mint());
    client.send({ type: 'subscribe', id: 1, topic: 'news', after: 0 });
    expect(await client.next()).toEqual({ type: 'subscribed', id: 1, topic: 'news', head: 2 });
    expect(await client.next()).toMatchObject({ type: 'change', seq: 1, data: 'one' });
    expect(await client.next()).toMatchObject({ type: 'change', seq: 2, data: 'two' });
    await client.close();
    expect(await second.stop()).toBe(0);
  });

  it('keeps topics in memory with --memory and says so', async () => {
    const cli = await start(['--port', '0', '--secret', SECRET, '--memory']);
    expect(cli.out[1]).toMatch(/^topics kept in memory/);
    expect(await cli.stop()).toBe(0);
  });

  it('verifies with --public-key-file and applies --issuer, --audience and --roles-claim', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const dir = await mkdtemp(join(tmpdir(), 'shared-session-cli-'));
    const file = join(dir, 'key.pem');
    await writeFile(file, await exportSPKI(publicKey));
    const cli = await start([
      '--memory',
      '--port',
      '0',
      '--public-key-file',
      file,
      '--issuer',
      'iss',
      '--audience',
      'aud',
      '--roles-claim',
      'groups',
    ]);
    const token = await new SignJWT({ sub: 'zoe', iss: 'iss', aud: 'aud', groups: ['g'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setExpirationTime('1h')
      .sign(privateKey);
    const { client, welcome } = await connectSession(cli.server, token);
    expect(welcome.roles).toEqual(['g']);
    await client.close();
    expect(await cli.stop()).toBe(0);
  });

  it.each([
    ['no key', ['--port', '0'], 'one of --secret, --public-key-file or --jwks-url is required'],
    ['a non-numeric port', ['--port', 'eighty', '--secret', 's'], '--port must be an integer'],
    ['an unknown flag', ['--secret', 's', '--colour'], "Unknown option '--colour'"],
    ['two keys', ['--secret', 's', '--jwks-url', 'https://x.test/jwks'], 'give only one of'],
    ['a missing key file', ['--public-key-file', '/nonexistent/key.pem'], 'cannot read --public-key-file'],
    ['a bad schema version', ['--secret', 's', '--schema-version', 'v2'], '--schema-version must be an integer'],
    [
      'both --data and --memory',
      ['--secret', 's', '--data', 'd', '--memory'],
      'give only one of --data, --memory or --redis',
    ],
    ['both --redis and --data', ['--secret', 's', '--redis', 'redis://127.0.0.1:1', '--data', 'd'], 'give only one of'],
    [
      'a --redis that is not a Redis URL',
      ['--secret', 's', '--redis', 'http://127.0.0.1:6379'],
      '--redis must be a redis://',
    ],
    ['--redis-prefix without --redis', ['--secret', 's', '--redis-prefix', 'app:'], '--redis-prefix needs --redis'],
  ])('exits 2 with a clear message for %s', async (_, argv, message) => {
    const { code, err } = await fails(argv);
    expect(code).toBe(EXIT_USAGE);
    expect(err).toContain(message);
    expect(err).toContain('usage: shared-session-server');
  });

  it('prints the usage and exits 0 for --help', async () => {
    const out: string[] = [];
    expect(await runCli(['--help'], { out: (l) => out.push(l), signals: [] })).toBe(0);
    expect(out.join('\n')).toContain('--jwks-url');
  });
});
