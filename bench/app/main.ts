// Page side of the benchmarks: the same measurements through shared-session and through the
// baselines (a socket per tab, a raw MessagePort), driven by bench/run.ts with page.evaluate.
//
// Opened with `?server=<url>[&host=leader]` the page creates its SessionClient as it loads, the way
// an app does (`new SessionClient({ serverUrl })` at start-up, `startSession(token)` once it has a
// token): the host starts then. Without `server` the page starts no host (the socket-per-tab
// baseline, or a cold start measured with `startCold`).
import * as Comlink from 'comlink';
import { SessionClient, type TopicChange } from 'shared-session';

/** Epoch milliseconds with sub-millisecond resolution (the server stamps changes the same way). */
const now = () => performance.timeOrigin + performance.now();

interface BenchState {
  client: SessionClient | undefined;
  socket?: WebSocket;
  echo?: MessagePort;
  relay?: MessagePort;
  latencies: number[];
  seqs: number[];
  refreshes: number;
}

const params = new URL(location.href).searchParams;
const serverParam = params.get('server');
const state: BenchState = {
  client:
    serverParam === null
      ? undefined
      : new SessionClient({ serverUrl: serverParam, host: params.get('host') === 'leader' ? 'leader' : 'auto' }),
  latencies: [],
  seqs: [],
  refreshes: 0,
};

function record(change: { seq: number; data: unknown }): void {
  const sentAt = (change.data as { t?: number } | null)?.t;
  if (typeof sentAt === 'number') state.latencies.push(now() - sentAt);
  state.seqs.push(change.seq);
}

function client(): SessionClient {
  if (!state.client) throw new Error('open the page with ?server= or call bench.startCold first');
  return state.client;
}

/** A raw MessagePort round trip to an echo SharedWorker: the RPC baseline. */
function echo(value: number): Promise<void> {
  if (!state.echo) {
    const worker = new SharedWorker(new URL('./echo-worker.js', import.meta.url), { name: 'echo' });
    state.echo = worker.port;
    state.echo.start();
  }
  const port = state.echo;
  return new Promise<void>((resolve) => {
    port.onmessage = () => resolve();
    port.postMessage(value);
  });
}

/** Resolves with ms from `started` until the client reports OPEN. */
async function untilOpen(shared: SessionClient, started: number, start: Promise<unknown>): Promise<number> {
  const open = new Promise<void>((resolve) =>
    shared.onConnectionStatusChange((status) => status === 'OPEN' && resolve(), true),
  );
  await start;
  await open;
  return performance.now() - started;
}

/** A comlink-shaped request, as comlink sends `ping()` (its id is four random hex numbers). */
const ENVELOPE = {
  id: '1f2e3d4c5b6a7-1f2e3d4c5b6a7-1f2e3d4c5b6a7-1f2e3d4c5b6a',
  type: 'APPLY',
  path: ['ping'],
  argumentList: [],
};

/** One message to `port` and its answer. */
function roundTrip(port: MessagePort, message: unknown): Promise<void> {
  return new Promise<void>((resolve) => {
    port.onmessage = (event) => {
      void event.data; // read it, as comlink does
      resolve();
    };
    port.postMessage(message, []);
  });
}

/** Round-trip times (ms) of the calls of {@link bench.rpcRounds}. */
export interface RpcSamples {
  ping: number[];
  getSession: number[];
  raw: number[];
}

const bench = {
  /** Starts (or joins) the shared session on the client the page created; ms from startSession to OPEN. */
  startShared(token: string, refreshEveryMs?: number): Promise<number> {
    const shared = client();
    const refreshOptions = refreshEveryMs
      ? {
          interval: refreshEveryMs,
          refreshHandler: async () => {
            state.refreshes++;
            return (window as unknown as { mintToken(): Promise<string> }).mintToken();
          },
        }
      : undefined;
    const started = performance.now();
    return untilOpen(shared, started, shared.startSession(token, true, refreshOptions));
  },

  /** Resolves once the client the page created is attached to its host (the host has started). */
  async hostReady(): Promise<void> {
    await client().pingHost();
  },

  /** A page that has no client yet: ms from `new SessionClient` (the host starting) to OPEN. */
  startCold(serverUrl: string, token: string): Promise<number> {
    const started = performance.now();
    const shared = new SessionClient({ serverUrl });
    state.client = shared;
    return untilOpen(shared, started, shared.startSession(token));
  },

  /** Subscribes through the host; changes are recorded with their latency. */
  subscribeShared(topic: string): void {
    client().subscribe(topic, (change: TopicChange) => record(change));
  },

  /**
   * Joins the bare relay SharedWorker (`relay-worker.js`: one raw socket, each change frame posted
   * as its text to every tab), the fan-out floor; the first tab's call opens its socket.
   */
  startRelay(serverUrl: string, token: string, topic: string): Promise<void> {
    const port = new SharedWorker(new URL('./relay-worker.js', import.meta.url), { name: 'relay' }).port;
    state.relay = port;
    return new Promise<void>((resolve) => {
      port.onmessage = ({ data }: MessageEvent<string | { ready: true }>) => {
        if (typeof data !== 'string') return resolve();
        const message = JSON.parse(data);
        if (message.type === 'change') record(message);
      };
      port.postMessage({ serverUrl, token, topic });
    });
  },

  /** Opens this tab's own socket, speaking the protocol directly (the socket-per-tab baseline). */
  async startDirect(serverUrl: string, token: string, topic?: string): Promise<number> {
    const started = performance.now();
    const socket = new WebSocket(serverUrl);
    state.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.onopen = () =>
        socket.send(JSON.stringify({ type: 'hello', protocol: 1, token, sessionId: crypto.randomUUID() }));
      socket.onerror = () => reject(new Error('socket failed'));
      // A refusal (e.g. 4011, too many sockets for the user) closes without an error event.
      socket.onclose = (event) => reject(new Error(`socket closed ${event.code} before it was ready`));
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data as string);
        if (message.type === 'welcome') {
          if (topic) socket.send(JSON.stringify({ type: 'subscribe', id: 1, topic, after: 0 }));
          else resolve();
        } else if (message.type === 'subscribed') resolve();
        else if (message.type === 'change') record(message);
      };
    });
    return performance.now() - started;
  },

  /**
   * `count` rounds of sequential calls, each `raw, pingHost(), raw, getSession()`: the host calls
   * timed around the public methods as an app makes them, and a raw MessagePort echo interleaved
   * call by call, so that the machine's load falls on both alike.
   */
  async rpcRounds(count: number): Promise<RpcSamples> {
    const shared = client();
    const samples: RpcSamples = { ping: [], getSession: [], raw: [] };
    for (let i = 0; i < count; i++) {
      let started = performance.now();
      await echo(i);
      samples.raw.push(performance.now() - started);
      started = performance.now();
      await shared.pingHost();
      samples.ping.push(performance.now() - started);
      started = performance.now();
      await echo(i);
      samples.raw.push(performance.now() - started);
      started = performance.now();
      await shared.getSession();
      samples.getSession.push(performance.now() - started);
    }
    return samples;
  },

  /**
   * Where an RPC round trip's time goes, layer by layer: comlink's envelope without comlink,
   * comlink to a no-op worker, comlink straight to the host (a second port, no page layers), and
   * `pingHost()` (SessionClient and HostRpc on top). Each layer in its own block of `count`
   * rounds, alternating with the raw echo call by call: a worker's round trip depends on how long
   * it sat idle, so each side must be called as often as the other.
   */
  async rpcBreakdown(count: number): Promise<Record<string, { layer: number[]; raw: number[] }>> {
    const shared = client();
    const start = (worker: SharedWorker) => (worker.port.start(), worker.port);
    const envelope = start(new SharedWorker(new URL('./envelope-echo-worker.js', import.meta.url), { name: 'env' }));
    const noop = Comlink.wrap<{ ping(): number }>(
      start(new SharedWorker(new URL('./comlink-echo-worker.ts', import.meta.url), { type: 'module', name: 'noop' })),
    ).ping;
    // The same script and options as the package's own host: the same SharedWorker.
    const host = Comlink.wrap<{ ping(): number }>(
      start(
        new SharedWorker(new URL('../../dist/worker.js', import.meta.url), {
          type: 'module',
          name: 'shared-session',
          extendedLifetime: true,
        } as WorkerOptions),
      ),
    ).ping;
    const layers: [string, () => Promise<unknown>][] = [
      ['comlink envelope, no comlink', () => roundTrip(envelope, ENVELOPE)],
      ['comlink to a no-op worker', () => noop()],
      ['comlink to the host, no page layers', () => host()],
      ['pingHost(): SessionClient, HostRpc', () => shared.pingHost()],
    ];
    const samples: Record<string, { layer: number[]; raw: number[] }> = {};
    for (const [name, call] of layers) {
      const pair = { layer: [] as number[], raw: [] as number[] };
      for (let i = 0; i < count; i++) {
        let started = performance.now();
        await echo(i);
        pair.raw.push(performance.now() - started);
        started = performance.now();
        await call();
        pair.layer.push(performance.now() - started);
      }
      samples[name] = pair;
    }
    return samples;
  },

  hostStats: () => client().debugHostStats(),
  refreshes: () => state.refreshes,
  /** Changes received and not taken yet. */
  received: () => state.seqs.length,
  /** Drains what was recorded since the last call. */
  take(): { latencies: number[]; seqs: number[] } {
    const taken = { latencies: state.latencies, seqs: state.seqs };
    state.latencies = [];
    state.seqs = [];
    return taken;
  },
};

/** What bench/run.ts calls in the page. */
export type BenchPage = typeof bench;

(window as unknown as { bench: BenchPage }).bench = bench;
document.title = 'bench ready';
