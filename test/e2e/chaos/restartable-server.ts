/**
 * A reference server that a chaos spec can kill and start again for real: every generation listens
 * on the same port and keeps its topics in the same durable LMDB store, so the next one serves what
 * the last one stored. Two kinds:
 * - `in-process` (the default, cheap enough for 50 kills in `npm test`): a crash destroys every
 *   socket without a close frame (the host sees 1006), then the server and the store close;
 * - `process` (`CHAOS_SERVER=process`, the bench): each generation is a child process killed with
 *   SIGKILL (see `process-server.ts`): no close frame, no flush, no cleanup.
 * A server-side publisher appends to one topic throughout and records what was acknowledged.
 */
import type { SessionServerStats, TopicStore } from '../../../src/server/index.ts';
import { loadServerModule } from '../fixtures.ts';
import { startProcessServer } from './process-server.ts';
import { startServerPublisher, type ServerPublisher } from './server-publisher.ts';

/** How a generation ends: `crash` (sockets destroyed, or SIGKILL) or `shutdown` (`server.close()`: 4503 to every socket). */
export type KillMode = 'crash' | 'shutdown';

/** Where the generations run. */
export type ServerKind = 'in-process' | 'process';

/** A change the server-side publisher appended and saw acknowledged. */
export interface AckedChange {
  generation: number;
  n: number;
  seq: number;
}

/** A restart: when the new generation listened (epoch ms), and how long it waited for a warm process. */
export interface Restarted {
  listeningAt: number;
  /** `process` kind: non-zero when the kills came faster than spare processes could load. */
  standbyWaitMs: number;
}

/** What {@link startRestartableServer} needs. */
export interface RestartableServerOptions {
  secret: string;
  storePath: string;
  topic: string;
  publishIntervalMs: number;
}

/** See the module comment. */
export interface RestartableServer {
  readonly kind: ServerKind;
  /** The port every generation listens on. */
  readonly port: number;
  readonly url: string;
  /** Every server-side publish that resolved, in order. */
  readonly acked: readonly AckedChange[];
  /** What went wrong beside the kills (a publish failing while its server ran, a failed start). */
  readonly failures: readonly string[];
  /** `stats()` of the running generation (rejects while none runs). */
  stats(): Promise<SessionServerStats>;
  /** Ends the running generation; resolves once it is gone. */
  kill(mode: KillMode): Promise<void>;
  /** Starts the next generation on the same port and store; resolves once it listens. */
  restart(): Promise<Restarted>;
  /** Stops the running generation's publisher after its current publish. */
  stopPublishing(): Promise<void>;
  /** The last seq of the topic in the store. */
  head(): Promise<number>;
  /** Shuts the running generation down gracefully (its store closed), and any spare process. */
  close(): Promise<void>;
}

/** Shared by both kinds: the acknowledged changes and the failures, filled by the publishers. */
export interface PublisherRecord {
  acked: AckedChange[];
  failures: string[];
}

/** The server kind of this run: `CHAOS_SERVER=process` for child processes, else in-process. */
export function serverKindFromEnv(): ServerKind {
  const kind = process.env.CHAOS_SERVER ?? 'in-process';
  if (kind !== 'in-process' && kind !== 'process') {
    throw new TypeError(`CHAOS_SERVER must be 'in-process' or 'process', got ${kind}`);
  }
  return kind;
}

/**
 * Starts generation 1 on a free port.
 *
 * @example
 * ```ts
 * const server = await startRestartableServer('in-process', { secret, storePath, topic: 'feed', publishIntervalMs: 20 });
 * await server.kill('crash');
 * await server.restart(); // same port, same store
 * ```
 */
export function startRestartableServer(
  kind: ServerKind,
  options: RestartableServerOptions,
): Promise<RestartableServer> {
  const record: PublisherRecord = { acked: [], failures: [] };
  return kind === 'process' ? startProcessServer(options, record) : startInProcessServer(options, record);
}

/** One in-process generation. */
interface Generation {
  server: Awaited<ReturnType<Awaited<ReturnType<typeof loadServerModule>>['createSessionServer']>>;
  store: TopicStore;
  publisher: ServerPublisher;
}

async function startInProcessServer(
  options: RestartableServerOptions,
  record: PublisherRecord,
): Promise<RestartableServer> {
  const { createSessionServer, openLmdbTopicStore } = await loadServerModule();
  let generation = 0;
  let port = 0;
  let current: Generation | undefined;
  const serve = async (): Promise<number> => {
    const number = ++generation;
    const store = await openLmdbTopicStore({ path: options.storePath });
    const server = await createSessionServer({
      port,
      host: '127.0.0.1',
      auth: { secret: options.secret },
      store,
      logger: false,
    });
    const listeningAt = Date.now();
    port = server.port;
    const publisher = startServerPublisher(server, options.topic, number, options.publishIntervalMs, {
      acked: (n, seq) => record.acked.push({ generation: number, n, seq }),
      failed: (message) => record.failures.push(message),
    });
    current = { server, store, publisher };
    return listeningAt;
  };
  const running = (): Generation => {
    if (!current) throw new Error('no server generation runs');
    return current;
  };
  const kill = async (mode: KillMode): Promise<void> => {
    const ending = current;
    if (!ending) return;
    current = undefined;
    // A crash: the sockets die first, with no close frame; the publish in flight may or may not land.
    if (mode === 'crash') ending.server.terminateSockets();
    const stopped = ending.publisher.stop();
    await ending.server.close();
    await stopped;
    // The server does not close a store it was given.
    await ending.store.close();
  };
  await serve();

  return {
    kind: 'in-process',
    port,
    url: `ws://127.0.0.1:${port}`,
    acked: record.acked,
    failures: record.failures,
    stats: async () => running().server.stats(),
    kill,
    async restart() {
      if (current) throw new Error('restart() while a generation runs: kill() it first');
      return { listeningAt: await serve(), standbyWaitMs: 0 };
    },
    stopPublishing: () => running().publisher.stop(),
    head: () => running().store.head(options.topic),
    close: () => kill('shutdown'),
  };
}
