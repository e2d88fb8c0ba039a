// Page side of the benchmarks: the same measurements through shared-session and through the
// baselines (a socket per tab, a raw MessagePort), driven by bench/run.ts with page.evaluate.
import { SessionClient, type TopicChange } from 'shared-session';

/** Epoch milliseconds with sub-millisecond resolution (the server stamps changes the same way). */
const now = () => performance.timeOrigin + performance.now();

interface BenchState {
  client?: SessionClient;
  socket?: WebSocket;
  latencies: number[];
  seqs: number[];
  refreshes: number;
}

const state: BenchState = { latencies: [], seqs: [], refreshes: 0 };

function record(change: { seq: number; data: unknown }): void {
  const sentAt = (change.data as { t?: number } | null)?.t;
  if (typeof sentAt === 'number') state.latencies.push(now() - sentAt);
  state.seqs.push(change.seq);
}

const bench = {
  /** Starts (or joins) the shared session; resolves with ms from startSession to OPEN. */
  async startShared(
    serverUrl: string,
    token: string,
    refreshEveryMs?: number,
    host: 'auto' | 'leader' = 'auto',
  ): Promise<number> {
    const client = new SessionClient({ serverUrl, host });
    state.client = client;
    const started = performance.now();
    const open = new Promise<void>((resolve) =>
      client.onConnectionStatusChange((status) => status === 'OPEN' && resolve(), true),
    );
    const refreshOptions = refreshEveryMs
      ? {
          interval: refreshEveryMs,
          refreshHandler: async () => {
            state.refreshes++;
            return (window as unknown as { mintToken(): Promise<string> }).mintToken();
          },
        }
      : undefined;
    await client.startSession(token, true, refreshOptions);
    await open;
    return performance.now() - started;
  },

  /** Subscribes through the host; changes are recorded with their latency. */
  subscribeShared(topic: string): void {
    state.client!.subscribe(topic, (change: TopicChange) => record(change));
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

  /** Per-call round trips (ms) of `count` sequential pings: through the host, or a raw MessagePort echo. */
  async roundTrips(kind: 'host' | 'raw', count: number): Promise<number[]> {
    const times: number[] = [];
    if (kind === 'host') {
      for (let i = 0; i < count; i++) times.push(await state.client!.pingHost());
      return times;
    }
    const worker = new SharedWorker(new URL('./echo-worker.js', import.meta.url), { name: 'echo' });
    const port = worker.port;
    port.start();
    for (let i = 0; i < count; i++) {
      const started = performance.now();
      await new Promise<void>((resolve) => {
        port.onmessage = () => resolve();
        port.postMessage(i);
      });
      times.push(performance.now() - started);
    }
    return times;
  },

  hostStats: () => state.client!.debugHostStats(),
  refreshes: () => state.refreshes,
  /** Drains what was recorded since the last call. */
  take(): { latencies: number[]; seqs: number[] } {
    const taken = { latencies: state.latencies, seqs: state.seqs };
    state.latencies = [];
    state.seqs = [];
    return taken;
  },
};

(window as unknown as { bench: typeof bench }).bench = bench;
document.title = 'bench ready';
