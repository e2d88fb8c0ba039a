// Load clients speaking the real protocol (hello with a minted token, subscribe, publish) or, for
// the bare baseline, plain sockets. Everything counts frames without parsing them once a socket is
// set up, so that the clients cost as little CPU as possible on a 2-core machine.
import { randomUUID } from 'node:crypto';
import { WebSocket } from 'ws';

/** A set of open sockets and the count of frames they received since they were set up. */
export interface LoadSessions {
  readonly sockets: WebSocket[];
  /** Frames received by all sockets after setup (the broadcast deliveries). */
  readonly counter: { received: number };
  /** Sockets that failed to open or to get through hello/subscribe. */
  readonly failures: number;
  /** Wall time to open (and set up) all of them. */
  readonly elapsedMs: number;
  /** Sockets still open. */
  open(): number;
  /** Destroys every socket. */
  terminate(): void;
}

/** Options of {@link openSessions}. */
export interface OpenOptions {
  /** URLs to spread the sockets over, round-robin (one URL for one server or a balancer). */
  urls: string[];
  count: number;
  /** Sockets being set up at once. */
  concurrency: number;
  /** Token per socket, for the real protocol; `undefined` opens bare sockets. */
  token?: (i: number) => Promise<string>;
  /** Topic every session subscribes to (real protocol only). */
  topic: string;
  /** Gives up on one socket after this long. */
  timeoutMs: number;
}

/** Opens `count` sockets; with `token`, each completes `hello` → `welcome` and `subscribe` → `subscribed`. */
export async function openSessions(options: OpenOptions): Promise<LoadSessions> {
  const sockets: WebSocket[] = [];
  const counter = { received: 0 };
  const count = (): void => {
    counter.received++;
  };
  let failures = 0;
  let next = 0;
  const started = performance.now();

  const openOne = async (i: number): Promise<void> => {
    const token = options.token ? await options.token(i) : undefined;
    const ws = new WebSocket(options.urls[i % options.urls.length]!, { perMessageDeflate: false });
    sockets.push(ws);
    ws.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('setup timed out')), options.timeoutMs);
      const done = (error?: Error): void => {
        clearTimeout(timer);
        ws.off('message', onSetup);
        if (error) return reject(error);
        ws.on('message', count);
        resolve();
      };
      const onSetup = (raw: Buffer): void => {
        const message = JSON.parse(raw.toString()) as { type: string };
        if (message.type === 'welcome') {
          ws.send(JSON.stringify({ type: 'subscribe', id: 1, topic: options.topic, after: 0 }));
        } else if (message.type === 'subscribed') {
          done();
        } else {
          done(new Error(`unexpected ${message.type} during setup`));
        }
      };
      ws.once('close', () => done(new Error('closed during setup')));
      ws.once('open', () => {
        if (token === undefined) return done();
        ws.on('message', onSetup);
        ws.send(JSON.stringify({ type: 'hello', protocol: 1, token, sessionId: randomUUID() }));
      });
    }).catch(() => {
      failures++;
      ws.terminate();
    });
  };

  const worker = async (): Promise<void> => {
    while (next < options.count) await openOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  return {
    sockets,
    counter,
    failures,
    elapsedMs: performance.now() - started,
    open: () => sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length,
    terminate: () => {
      for (const ws of sockets) ws.terminate();
    },
  };
}

/** Options of {@link broadcast}. */
export interface BroadcastOptions {
  /** Where the publisher connects. */
  url: string;
  /** The publisher's token (real protocol), or `undefined` for the bare server. */
  token?: string;
  topic: string;
  /** Changes to publish. */
  changes: number;
  /** Publishes in flight at once (the session host pipelines up to 64). */
  window: number;
  /** Approximate bytes of each change's `data`. */
  payloadBytes: number;
  /** The receivers, and how many frames they must receive in all. */
  receivers: LoadSessions;
  expectedDeliveries: number;
  timeoutMs: number;
}

/** Result of {@link broadcast}. */
export interface BroadcastResult {
  deliveries: number;
  elapsedMs: number;
  /** Deliveries per second (changes × receivers / time until the last one arrived). */
  perSecond: number;
  /** Whether every receiver got every change before the timeout. */
  complete: boolean;
}

/**
 * Publishes `changes` changes from one more socket (`window` in flight, like the session host's
 * outbox) and waits until the receivers counted `expectedDeliveries` frames.
 */
export async function broadcast(options: BroadcastOptions): Promise<BroadcastResult> {
  const ws = new WebSocket(options.url, { perMessageDeflate: false });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  if (options.token !== undefined) {
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, token: options.token, sessionId: randomUUID() }));
    await new Promise<void>((resolve, reject) =>
      ws.once('message', (raw: Buffer) =>
        (JSON.parse(raw.toString()) as { type: string }).type === 'welcome'
          ? resolve()
          : reject(new Error(`publisher refused: ${raw.toString()}`)),
      ),
    );
  }
  const filler = 'x'.repeat(Math.max(0, options.payloadBytes - 40));
  const base = options.receivers.counter.received;
  let sent = 0;
  let inFlight = 0;
  const started = performance.now();
  const result = await new Promise<BroadcastResult>((resolve) => {
    const finish = (complete: boolean): void => {
      clearInterval(poll);
      clearTimeout(timer);
      const elapsedMs = performance.now() - started;
      const deliveries = options.receivers.counter.received - base;
      resolve({ deliveries, elapsedMs, perSecond: (deliveries / elapsedMs) * 1000, complete });
    };
    const pump = (): void => {
      while (inFlight < options.window && sent < options.changes) {
        sent++;
        inFlight++;
        ws.send(
          JSON.stringify({
            type: 'publish',
            id: sent,
            topic: options.topic,
            clientId: randomUUID(),
            data: { n: sent, text: filler },
          }),
        );
      }
    };
    ws.on('message', (raw: Buffer) => {
      const type = (JSON.parse(raw.toString()) as { type: string }).type;
      if (type === 'published') {
        inFlight--;
        pump();
      } else if (type === 'error') {
        console.error(`publish refused: ${raw.toString()}`);
      }
    });
    // The receivers' handlers only count: check the total every millisecond.
    const poll = setInterval(() => {
      if (options.receivers.counter.received - base >= options.expectedDeliveries) finish(true);
    }, 1);
    const timer = setTimeout(() => finish(false), options.timeoutMs);
    pump();
  });
  ws.terminate();
  return result;
}
