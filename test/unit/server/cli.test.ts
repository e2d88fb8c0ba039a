import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { NO_PERMISSIONS_WARNING } from '../../../src/server/cli/permissions-file.js';
import { EXIT_USAGE, runCli, type SessionServer } from '../../../src/server/index.js';
import { connectSession, mint, SECRET, TestClient } from './helpers.js';

/** Writes `text` to a fresh temporary file and returns its path. */
async function file(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'shared-session-cli-file-')), 'file.json');
  await writeFile(path, text);
  return path;
}

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
    err,
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

  it('takes every flag from its SHARED_SESSION_* variable, and a flag wins over its variable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'shared-session-cli-env-'));
    const permissions = join(dir, 'permissions.json');
    await writeFile(permissions, JSON.stringify({ 'news:*': { read: ['*'], write: ['editor'] } }));
    const env = {
      SHARED_SESSION_PORT: '1', // overridden by --port 0 below
      SHARED_SESSION_HOST: '127.0.0.1',
      SHARED_SESSION_PATH: '/session',
      SHARED_SESSION_ALLOWED_ORIGINS: 'https://a.example, https://b.example',
      SHARED_SESSION_SECRET: SECRET,
      SHARED_SESSION_ISSUER: 'iss-1,iss-2',
      SHARED_SESSION_AUDIENCE: 'app',
      SHARED_SESSION_ROLES_CLAIM: 'realm_access.roles',
      SHARED_SESSION_CLOCK_TOLERANCE: '30',
      SHARED_SESSION_PERMISSIONS: permissions,
      SHARED_SESSION_SCHEMA_VERSIONS: '2,3',
      SHARED_SESSION_MEMORY: 'true',
      SHARED_SESSION_LOG_LEVEL: 'warn',
    };
    const cli = await start(['--port', '0'], env);
    expect(cli.server.url).toBe(`ws://127.0.0.1:${cli.server.port}/session`);
    expect(cli.err).toEqual([]); // permissions given: no warning
    const token = await mint({
      iss: 'iss-2',
      aud: 'app',
      exp: Math.floor(Date.now() / 1000) - 10, // within the clock tolerance
      realm_access: { roles: ['editor'] },
    });
    const client = await TestClient.connect(cli.server.url, { origin: 'https://b.example' });
    expect(await client.hello(token, { schemaVersion: 3 })).toMatchObject({
      type: 'welcome',
      roles: ['editor'],
      rolesClaim: 'realm_access.roles',
    });
    client.send({ type: 'publish', id: 1, topic: 'news:today', clientId: 'c', data: 1 });
    expect(await client.next()).toMatchObject({ type: 'published', id: 1 });
    client.send({ type: 'publish', id: 2, topic: 'other', clientId: 'c', data: 1 });
    expect(await client.next()).toMatchObject({ type: 'error', id: 2, code: 'FORBIDDEN' });
    await expect(TestClient.connect(cli.server.url, { origin: 'https://c.example' })).rejects.toThrow('403');
    await client.close();
    expect(await cli.stop()).toBe(0);
  });

  it('honours PORT as platforms set it, below SHARED_SESSION_PORT and --port', async () => {
    const probe = await start(['--port', '0', '--memory'], { SHARED_SESSION_SECRET: SECRET });
    const port = probe.server.port;
    expect(await probe.stop()).toBe(0);
    const cli = await start(['--memory'], { SHARED_SESSION_SECRET: SECRET, PORT: String(port) });
    expect(cli.server.port).toBe(port);
    expect(await cli.stop()).toBe(0);
  });

  it('reads the PEM itself from SHARED_SESSION_PUBLIC_KEY', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    const cli = await start(['--port', '0', '--memory'], { SHARED_SESSION_PUBLIC_KEY: await exportSPKI(publicKey) });
    const token = await new SignJWT({ sub: 'pem' })
      .setProtectedHeader({ alg: 'ES256' })
      .setExpirationTime('1h')
      .sign(privateKey);
    const { client, welcome } = await connectSession(cli.server, token);
    expect(welcome.userId).toBe('pem');
    await client.close();
    expect(await cli.stop()).toBe(0);
  });

  it('warns at start, on stderr, that without --permissions every signed-in user may read and write every non-private topic', async () => {
    const cli = await start(['--port', '0', '--secret', SECRET, '--memory']);
    expect(cli.err).toEqual([`shared-session-server: ${NO_PERMISSIONS_WARNING}`]);
    expect(NO_PERMISSIONS_WARNING).toContain('every signed-in user may read and write every topic');
    expect(await cli.stop()).toBe(0);
  });

  it.each([
    ['a missing file', async () => '/nonexistent/permissions.json', 'cannot read --permissions'],
    ['a file that is not JSON', async () => file('{ not json'), 'is not valid JSON'],
    ['a rule that is not an object', async () => file('{"news:*": true}'), 'must be an object { read?, write? }'],
    [
      'roles that are not strings',
      async () => file('{"news:*": {"read": [1]}}'),
      'must be an array of non-empty role names',
    ],
    ['an array', async () => file('[]'), '"permissions" must be an object'],
  ])('exits 2 naming the file for --permissions with %s', async (_, path, message) => {
    const { code, err } = await fails(['--secret', 's', '--memory', '--permissions', await path()]);
    expect(code).toBe(EXIT_USAGE);
    expect(err).toContain('--permissions');
    expect(err).toContain(message);
  });

  it.each([
    [
      'a negative clock tolerance',
      ['--secret', 's', '--clock-tolerance=-1'],
      '--clock-tolerance must be a non-negative number',
    ],
    ['an unknown log level', ['--secret', 's', '--log-level', 'loud'], '--log-level must be one of'],
    ['a relative --path', ['--secret', 's', '--memory', '--path', 'session'], '"path" must start with "/"'],
    ['a bad --allowed-origin', ['--secret', 's', '--memory', '--allowed-origin', 'example.com'], 'is not an origin'],
  ])('exits 2 for %s', async (_, argv, message) => {
    const { code, err } = await fails(argv);
    expect(code).toBe(EXIT_USAGE);
    expect(err).toContain(message);
  });

  it('exits 2 for a boolean variable that is not 1/true or 0/false', async () => {
    const { code, err } = await fails(['--secret', 's'], { SHARED_SESSION_MEMORY: 'maybe' });
    expect(code).toBe(EXIT_USAGE);
    expect(err).toContain('SHARED_SESSION_MEMORY must be 1/true or 0/false');
  });

  it('prints the usage and exits 0 for --help', async () => {
    const out: string[] = [];
    expect(await runCli(['--help'], { out: (l) => out.push(l), signals: [] })).toBe(0);
    const usage = out.join('\n');
    for (const variable of [
      'SHARED_SESSION_PORT',
      'SHARED_SESSION_SECRET',
      'SHARED_SESSION_JWKS_URL',
      'SHARED_SESSION_REDIS_URL',
      'SHARED_SESSION_PERMISSIONS',
      'PORT',
    ]) {
      expect(usage).toContain(variable);
    }
    expect(usage).toContain('--permissions F');
  });
});
