/**
 * A reference server in a child process of its own, so that a chaos spec can kill it like a crash
 * (SIGKILL: no close frames, no flush, no cleanup) and start the next one on the same port and the
 * same LMDB store. Started warm (the built server module loaded) and idle until `serve`, so that a
 * restart costs the store's open and a `listen`, not a Node start. Its own publisher appends
 * `{ src: 'server', generation, n }` every `publishIntervalMs` and reports each acknowledged one.
 *
 * Run by `restartable-server.ts` with `node --import tsx`; `SHARED_SESSION_SERVER_MODULE` is the
 * file URL of the built `server/index.js` to load.
 */
import type * as ServerModule from '../../../src/server/index.ts';
import type { FromServerProcess, ServeRequest, ToServerProcess } from './server-process-messages.ts';
import { startServerPublisher, type ServerPublisher } from './server-publisher.ts';

/** Environment variable with the file URL of the built server module. */
const SERVER_MODULE_ENV = 'SHARED_SESSION_SERVER_MODULE';

function tell(message: FromServerProcess): void {
  process.send?.(message);
}

const moduleUrl = process.env[SERVER_MODULE_ENV];
if (!moduleUrl || !process.send) {
  console.error(`server-process: run me with an IPC channel and ${SERVER_MODULE_ENV}`);
  process.exit(2);
}
const { createSessionServer, openLmdbTopicStore } = (await import(moduleUrl)) as typeof ServerModule;

let server: ServerModule.SessionServer | undefined;
let store: ServerModule.TopicStore | undefined;
let publisher: ServerPublisher | undefined;
let topic = '';

async function serve(request: ServeRequest): Promise<void> {
  topic = request.topic;
  // Opened here rather than by the server (`store: { path }`, the same store) to answer `head`.
  store = await openLmdbTopicStore({ path: request.storePath });
  server = await createSessionServer({
    port: request.port,
    host: '127.0.0.1',
    auth: { secret: request.secret },
    store,
    logger: false,
  });
  tell({ type: 'listening', port: server.port, at: Date.now() });
  const { generation } = request;
  publisher = startServerPublisher(server, topic, generation, request.publishIntervalMs, {
    acked: (n, seq) => tell({ type: 'acked', generation, n, seq }),
    failed: (message) => tell({ type: 'failed', message }),
  });
}

process.on('message', (message: ToServerProcess) => {
  switch (message.type) {
    case 'serve':
      serve(message).catch((error: unknown) => {
        tell({ type: 'failed', message: `serve failed: ${String(error)}` });
        process.exit(1);
      });
      return;
    case 'stats':
      if (server) tell({ type: 'stats', id: message.id, stats: server.stats() });
      return;
    case 'stop-publishing':
      void Promise.resolve(publisher?.stop()).then(() => tell({ type: 'publishing-stopped', id: message.id }));
      return;
    case 'head':
      void store?.head(topic).then((seq) => tell({ type: 'head', id: message.id, seq }));
      return;
    case 'shut-down':
      // The server does not close a store it was given: close it after the server, then exit.
      void Promise.resolve(publisher?.stop())
        .then(() => server?.close())
        .then(() => store?.close())
        .finally(() => process.exit(0));
      return;
  }
});
// The parent went away (its test ended or crashed): do not outlive it.
process.on('disconnect', () => process.exit(0));
tell({ type: 'warm' });
