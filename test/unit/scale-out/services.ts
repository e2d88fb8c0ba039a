/**
 * Real services for the scale-out tests and the load generator: Debian's `redis-server`, Debian's
 * `nginx` as the WebSocket load balancer, and reference-server child processes. Everything binds
 * 127.0.0.1, lives in a temp dir and is stopped by `stop()` (and killed when this process exits).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { HealthReport } from '../../../src/server/index.js';

/** How long a service may take to start before the test gives up. */
export const SERVICE_START_TIMEOUT_MS = 15_000;

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** The first existing path of `candidates`, or the command found on `PATH`. */
function findExecutable(envVar: string, name: string, candidates: string[]): string | undefined {
  const fromEnv = process.env[envVar];
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const found = which.stdout.trim();
  return which.status === 0 && found !== '' ? found : undefined;
}

/** `redis-server` (`REDIS_SERVER_PATH` first), or undefined when it is not installed. */
export function findRedisServer(): string | undefined {
  return findExecutable('REDIS_SERVER_PATH', 'redis-server', ['/usr/bin/redis-server', '/usr/local/bin/redis-server']);
}

/** `nginx` (`NGINX_PATH` first), or undefined when it is not installed. */
export function findNginx(): string | undefined {
  return findExecutable('NGINX_PATH', 'nginx', ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx']);
}

/** Why the scale-out tests cannot run here, or undefined when they can. */
export function missingServices(needNginx: boolean): string | undefined {
  const missing = [findRedisServer() ? undefined : 'redis-server', needNginx && !findNginx() ? 'nginx' : undefined];
  const names = missing.filter((name) => name !== undefined);
  if (names.length === 0) return undefined;
  return `${names.join(' and ')} not found (run \`node scripts/ensure-deps.mjs --services\` as root, or set REDIS_SERVER_PATH / NGINX_PATH)`;
}

/** A free TCP port on 127.0.0.1 (free when asked: callers retry when another process takes it first). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A child process that lives until `stop()`; its output is kept for error messages. */
class Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output = '';

  constructor(name: string, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.name = name;
    this.child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: 'pipe' });
    children.add(this.child);
    const keep = (data: Buffer): void => {
      this.output = (this.output + data.toString()).slice(-20_000);
    };
    this.child.stdout!.on('data', keep);
    this.child.stderr!.on('data', keep);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        children.delete(this.child);
        resolve(code ?? (signal === null ? null : -1));
      });
      this.child.once('error', (error) => {
        this.output += `\nspawn failed: ${error.message}`;
        children.delete(this.child);
        resolve(-1);
      });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends SIGTERM, then SIGKILL when it has not exited within `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const exited = await Promise.race([this.exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!exited) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }

  /** Kills at once (a crash: no graceful shutdown). */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  failure(what: string): Error {
    return new Error(`${this.name}: ${what}\n--- output ---\n${this.output.slice(-4_000)}`);
  }
}

/** Waits until `probe()` is true, the service exits, or the start timeout passes. */
async function waitUntil(service: Service, probe: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + SERVICE_START_TIMEOUT_MS;
  for (;;) {
    if (!service.running) throw service.failure(`exited before ${what}`);
    if (await probe()) return;
    if (Date.now() > deadline) throw service.failure(`not ${what} within ${SERVICE_START_TIMEOUT_MS} ms`);
    await sleep(25);
  }
}

/** Whether a TCP server answers `request` with something that starts with `expected`. */
function answers(port: number, request: string, expected: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.length >= expected.length) done(data.startsWith(expected));
    });
  });
}

/** A `redis-server` of the test. */
export interface RedisService {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops the server and removes its temp dir. */
  stop(): Promise<void>;
}

/**
 * Starts Debian's `redis-server` on a free loopback port, without persistence (`--save ''
 * --appendonly no`), in a temp dir.
 *
 * @throws when redis-server is missing or does not start
 */
export async function startRedis(): Promise<RedisService> {
  const executable = findRedisServer();
  if (executable === undefined) throw new Error(missingServices(false));
  const dir = await mkdtemp(path.join(tmpdir(), 'shared-session-redis-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const service = new Service(`redis-server :${port}`, executable, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
      '--maxclients',
      '10000',
    ]);
    try {
      await waitUntil(service, () => answers(port, 'PING\r\n', '+PONG'), 'answering PING');
    } catch (error) {
      await service.kill();
      if (attempt < 3 && /Address already in use/.test(service.output)) continue;
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      async stop() {
        await service.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** An nginx load balancer of the test. */
export interface NginxService {
  /** `ws://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** The generated configuration (for failure messages). */
  readonly config: string;
  /** The access log so far (one line per proxied request: status and upstream). */
  accessLog(): Promise<string>;
  /** Stops nginx and removes its temp dir. */
  stop(): Promise<void>;
}

/**
 * The nginx configuration of the balancer: round-robin over `upstreamPorts`, WebSocket upgrades
 * proxied (`proxy_http_version 1.1` and the Upgrade/Connection headers), a refused upstream
 * skipped for the next one, logs and pid file in `dir`.
 */
export function nginxConfig(dir: string, port: number, upstreamPorts: readonly number[]): string {
  const servers = upstreamPorts.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n');
  return `# Generated by the shared-session scale-out tests.
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
# Each proxied session holds two connections (client side and upstream side).
worker_rlimit_nofile 100000;

events {
  worker_connections 40000;
}

http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  map $http_upgrade $connection_upgrade {
    default upgrade;
    '' close;
  }

  upstream session_servers {
${servers}
  }

  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://session_servers;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $host;
      proxy_connect_timeout 2s;
      proxy_next_upstream error timeout;
      # A session socket is long-lived; the server's heartbeat (30 s) keeps it busy.
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
`;
}

/**
 * Starts Debian's nginx (`daemon off`, its own prefix, config, logs and pid file in a temp dir) on
 * a free loopback port, balancing round-robin over the servers on `upstreamPorts`.
 *
 * @throws when nginx is missing or does not start
 */
export async function startNginx(upstreamPorts: readonly number[]): Promise<NginxService> {
  const executable = findNginx();
  if (executable === undefined) throw new Error(missingServices(true));
  const dir = await mkdtemp(path.join(tmpdir(), 'shared-session-nginx-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const config = nginxConfig(dir, port, upstreamPorts);
    const configPath = path.join(dir, 'nginx.conf');
    await writeFile(configPath, config);
    // -e: the error log before the config is read (the default /var/log/nginx may not be writable).
    const service = new Service(`nginx :${port}`, executable, ['-p', dir, '-c', configPath, '-e', `${dir}/error.log`]);
    try {
      await waitUntil(service, () => answers(port, 'GET /health HTTP/1.0\r\n\r\n', 'HTTP/1.1'), 'answering HTTP');
    } catch (error) {
      await service.kill();
      const log = await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '');
      if (attempt < 3 && /Address already in use/.test(service.output + log)) continue;
      await rm(dir, { recursive: true, force: true });
      throw error instanceof Error ? new Error(`${error.message}\n--- error.log ---\n${log}`) : error;
    }
    return {
      url: `ws://127.0.0.1:${port}`,
      port,
      config,
      accessLog: () => readFile(path.join(dir, 'access.log'), 'utf8').catch(() => ''),
      async stop() {
        // nginx's graceful stop waits for the WebSocket connections it proxies: SIGQUIT is no use here.
        await service.stop(2_000);
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}

/** A child process started by {@link startListeningProcess}. */
export interface ListeningProcess {
  /** The first capture group of `listening`. */
  readonly url: string;
  readonly pid: number;
  output(): string;
  readonly running: boolean;
  stop(): Promise<void>;
  kill(): Promise<void>;
}

/**
 * Spawns `command args` and waits until its output matches `listening` (whose first group is the
 * URL it serves).
 */
export async function startListeningProcess(
  name: string,
  command: string,
  args: string[],
  listening: RegExp,
): Promise<ListeningProcess> {
  const service = new Service(name, command, args);
  let url: string | undefined;
  await waitUntil(
    service,
    async () => {
      url ??= listening.exec(service.output)?.[1];
      return url !== undefined;
    },
    'listening',
  );
  return {
    url: url!,
    pid: service.child.pid!,
    output: () => service.output,
    get running() {
      return service.running;
    },
    stop: () => service.stop(),
    kill: () => service.kill(),
  };
}

/** A reference server running as a child process (the built CLI). */
export interface ServerProcess {
  /** `ws://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** `GET /health`: readiness and the server's counts (no user ids). */
  health(): Promise<HealthStats>;
  /** Open authenticated sockets per user, from the test's side endpoint (`server-process.mjs`). */
  socketsByUser(): Promise<Record<string, number>>;
  /** The process's output so far. */
  output(): string;
  /** Whether the process is still running. */
  readonly running: boolean;
  /** Graceful stop (SIGTERM: sockets closed with 4503). */
  stop(): Promise<void>;
  /** A crash (SIGKILL: sockets die without a close frame). */
  kill(): Promise<void>;
}

/** What `GET /health` answers: readiness and the server's counts, no user ids. */
export type HealthStats = HealthReport;

/** Options of {@link startServerProcess}. */
export interface ServerProcessOptions {
  /** Path of the built `server/cli.js`. */
  cli: string;
  secret: string;
  /** Redis URL (`--redis`); without it the server keeps topics in memory. */
  redisUrl?: string;
  /** `--redis-prefix` */
  keyPrefix?: string;
  /** Port to listen on; default a free one (`--port 0`). */
  port?: number;
  /** More CLI arguments. */
  args?: string[];
  /** Extra node flags (e.g. `--max-old-space-size`). */
  nodeArgs?: string[];
}

/**
 * Spawns the CLI `<cli> --port 0 --secret S [--redis URL]` (through `server-process.mjs`, which adds
 * the per-user socket counts on a side port) and waits until it prints the URL it listens on.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const args = [
    ...(options.nodeArgs ?? []),
    fileURLToPath(new URL('./server-process.mjs', import.meta.url)),
    path.join(path.dirname(options.cli), 'index.js'),
    '--port',
    String(options.port ?? 0),
    '--host',
    '127.0.0.1',
    // One argument: a random secret may start with "-", which parseArgs reads as another option.
    `--secret=${options.secret}`,
    ...(options.redisUrl === undefined ? ['--memory'] : ['--redis', options.redisUrl]),
    ...(options.keyPrefix === undefined ? [] : ['--redis-prefix', options.keyPrefix]),
    ...(options.args ?? []),
  ];
  const started = await startListeningProcess(
    'shared-session-server',
    process.execPath,
    args,
    /listening on (ws:\/\/127\.0\.0\.1:\d+)/,
  );
  const port = Number(new URL(started.url).port);
  const healthUrl = `http://127.0.0.1:${port}/health`;
  const usersUrl = /test users endpoint on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(started.output())?.[1];
  return {
    url: started.url,
    port,
    pid: started.pid,
    async health() {
      const response = await fetch(healthUrl);
      if (!response.ok) throw new Error(`GET ${healthUrl}: ${response.status}`);
      return (await response.json()) as HealthStats;
    },
    async socketsByUser() {
      if (usersUrl === undefined) throw new Error('the server process printed no users endpoint');
      const response = await fetch(usersUrl);
      if (!response.ok) throw new Error(`GET ${usersUrl}: ${response.status}`);
      return (await response.json()) as Record<string, number>;
    },
    output: started.output,
    get running() {
      return started.running;
    },
    stop: started.stop,
    kill: started.kill,
  };
}
