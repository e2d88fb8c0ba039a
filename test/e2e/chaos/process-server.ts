/**
 * The `process` kind of `RestartableServer`: each generation is a reference server in a child
 * process (`server-process.ts`), killed with SIGKILL for a crash. Spare processes load Node and the
 * built server ahead of time and wait warm, so that a restart costs the store's open and a
 * `listen`, not a Node start.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { SessionServerStats } from '../../../src/server/index.ts';
import { DIST_DIR } from '../paths.ts';
import type { KillMode, PublisherRecord, RestartableServer, RestartableServerOptions } from './restartable-server.ts';
import type { FromServerProcess, ServeRequest, ToServerProcess } from './server-process-messages.ts';

/** How long a child may take to load the server module, or to answer, before the spec gives up. */
const CHILD_TIMEOUT_MS = 20_000;
const CHILD_ENTRY = fileURLToPath(new URL('./server-process.ts', import.meta.url));
/** Processes kept warm behind the running one, so that back-to-back kills rarely wait for a Node start. */
const STANDBY_PROCESSES = 2;

/** One child process, from warm to exit. */
class ServerProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;
  #nextId = 1;
  readonly #answers = new Map<number, (message: FromServerProcess) => void>();
  #output = '';

  private constructor(child: ChildProcess, onMessage: (message: FromServerProcess) => void) {
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const keep = (data: Buffer) => (this.#output = (this.#output + data.toString()).slice(-4_000));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('message', (message: FromServerProcess) => {
      if ('id' in message) this.#answers.get(message.id)?.(message);
      onMessage(message);
    });
  }

  /** Forks a child and waits until it has loaded the built server module. */
  static async warm(onMessage: (message: FromServerProcess) => void): Promise<ServerProcess> {
    const child = fork(CHILD_ENTRY, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, SHARED_SESSION_SERVER_MODULE: pathToFileURL(path.join(DIST_DIR, 'server/index.js')).href },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const spawned = new ServerProcess(child, onMessage);
    await spawned.#expect((m) => m.type === 'warm', 'loading the server module');
    return spawned;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async serve(request: ServeRequest): Promise<{ port: number; at: number }> {
    const listening = this.#expect((m) => m.type === 'listening', 'listening');
    let unsent: Error | undefined;
    this.#send(request, (error) => (unsent = error));
    const message = await listening.catch((error: unknown) => {
      throw unsent ?? error;
    });
    if (message.type !== 'listening') throw new Error('unreachable');
    return { port: message.port, at: message.at };
  }

  /** Sends a request with an id and resolves with the child's answer to it. */
  async ask(message: { type: 'stats' | 'stop-publishing' | 'head' }): Promise<FromServerProcess> {
    const id = this.#nextId++;
    const answer = new Promise<FromServerProcess>((resolve, reject) => {
      this.#answers.set(id, resolve);
      this.#send({ ...message, id }, reject);
    });
    try {
      return await this.#bounded(answer, `answering ${message.type}`);
    } finally {
      this.#answers.delete(id);
    }
  }

  async kill(mode: KillMode): Promise<void> {
    if (!this.running) return;
    if (mode === 'crash') this.child.kill('SIGKILL');
    else this.#send({ type: 'shut-down' }, () => this.child.kill('SIGKILL'));
    await this.#bounded(this.exited, 'exiting').catch(() => this.child.kill('SIGKILL'));
    await this.exited;
  }

  /** Sends `message`; a child that is dying (its channel closed) is reported to `onError`, not thrown. */
  #send(message: ToServerProcess, onError: (error: Error) => void = () => undefined): void {
    if (!this.running || !this.child.connected) return onError(this.#failure('has exited'));
    // With a callback, a closed channel is an argument here rather than an 'error' event on the child.
    this.child.send(message, (error) => {
      if (error) onError(this.#failure(`could not be sent ${message.type}: ${error.message}`));
    });
  }

  #expect(match: (message: FromServerProcess) => boolean, what: string): Promise<FromServerProcess> {
    return this.#bounded(
      new Promise((resolve, reject) => {
        const listener = (message: FromServerProcess) => {
          if (message.type === 'failed') reject(this.#failure(message.message));
          if (!match(message)) return;
          this.child.off('message', listener);
          resolve(message);
        };
        this.child.on('message', listener);
        void this.exited.then(() => reject(this.#failure(`exited before ${what}`)));
      }),
      what,
    );
  }

  #bounded<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(this.#failure(`not ${what} within ${CHILD_TIMEOUT_MS} ms`)), CHILD_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  #failure(what: string): Error {
    return new Error(`server process ${this.child.pid}: ${what}\n${this.#output}`);
  }
}

/**
 * Starts generation 1 (on a free port) in a child process, with warm spares behind it.
 *
 * @param options - secret, store, topic and publish pace
 * @param record - where the publishers' acknowledgements and failures go
 */
export async function startProcessServer(
  options: RestartableServerOptions,
  record: PublisherRecord,
): Promise<RestartableServer> {
  const onMessage = (message: FromServerProcess) => {
    if (message.type === 'acked') record.acked.push({ generation: message.generation, n: message.n, seq: message.seq });
    if (message.type === 'failed') record.failures.push(message.message);
  };
  const warm = () => {
    const started = ServerProcess.warm(onMessage);
    started.catch(() => undefined); // awaited (and rethrown) where the spare is used
    return started;
  };
  let generation = 1;
  let current = await warm();
  const { port } = await current.serve({ type: 'serve', port: 0, generation, ...options });
  const standbys = Array.from({ length: STANDBY_PROCESSES }, warm);
  const ask = async <T extends FromServerProcess['type']>(type: 'stats' | 'stop-publishing' | 'head', answer: T) => {
    const message = await current.ask({ type });
    if (message.type !== answer) throw new Error(`the server process answered ${message.type} to ${type}`);
    return message as Extract<FromServerProcess, { type: T }>;
  };

  return {
    kind: 'process',
    port,
    url: `ws://127.0.0.1:${port}`,
    acked: record.acked,
    failures: record.failures,
    stats: async (): Promise<SessionServerStats> => (await ask('stats', 'stats')).stats,
    kill: (mode) => current.kill(mode),
    async restart() {
      if (current.running) throw new Error('restart() while a generation runs: kill() it first');
      const asked = Date.now();
      const next = await standbys.shift()!;
      const standbyWaitMs = Date.now() - asked;
      standbys.push(warm());
      generation++;
      const { at } = await next.serve({ type: 'serve', port, generation, ...options });
      current = next;
      return { listeningAt: at, standbyWaitMs };
    },
    async stopPublishing() {
      await ask('stop-publishing', 'publishing-stopped');
    },
    head: async () => (await ask('head', 'head')).seq,
    async close() {
      await current.kill('shutdown');
      const spares = await Promise.all(standbys.map((standby) => standby.catch(() => undefined)));
      await Promise.all(spares.map((spare) => spare?.kill('crash')));
    },
  };
}
