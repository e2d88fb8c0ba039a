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
  /** Sockets that failed to open or to get through hello (and subscribe). */
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
  /** Token per socket: each socket sends `hello` and waits for `welcome`; `undefined` opens bare sockets. */
  token?: (i: number) => string;
  /** Gives up on one socket after this long. */
  timeoutMs: number;
}

/** Runs `task(i)` for i = 0…count-1, at most `concurrency` at once. */
async function forEachLimited(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/**
 * Sends `frame` (unless `undefined`) and resolves with the first frame answered whose `type` is
 * `expected`; rejects on another type, a close or the timeout.
 */
function exchange(ws: WebSocket, frame: string | undefined, expected: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`no ${expected} in time`)), timeoutMs);
    const done = (error?: Error): void => {
      clearTimeout(timer);
      ws.off('message', onMessage);
      ws.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    const onMessage = (raw: Buffer): void => {
      const { type } = JSON.parse(raw.toString()) as { type: string };
      done(
        type === expected ? undefined : new Error(`${type} instead of ${expected}: ${raw.toString().slice(0, 200)}`),
      );
    };
    const onClose = (): void => done(new Error(`closed before ${expected}`));
    ws.on('message', onMessage);
    ws.once('close', onClose);
    if (frame !== undefined) ws.send(frame);
  });
}

/** The `hello` frame of a load session. */
export function helloFrame(token: string): string {
  return JSON.stringify({ type: 'hello', protocol: 1, token, sessionId: randomUUID() });
}

/**
 * Opens `count` sockets; with `token`, each completes upgrade → `hello` → `welcome` (what the
 * connect rate measures). Failed sockets are counted and terminated.
 */
export async function openSessions(options: OpenOptions): Promise<LoadSessions> {
  const sockets: WebSocket[] = [];
  const counter = { received: 0 };
  let failures = 0;
  const started = performance.now();

  const openOne = async (i: number): Promise<void> => {
    const ws = new WebSocket(options.urls[i % options.urls.length]!, { perMessageDeflate: false });
    sockets.push(ws);
    ws.on('error', () => {});
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('upgrade timed out')), options.timeoutMs);
        ws.once('open', () => (clearTimeout(timer), resolve()));
        ws.once('close', () => (clearTimeout(timer), reject(new Error('closed during the upgrade'))));
      });
      if (options.token !== undefined) await exchange(ws, helloFrame(options.token(i)), 'welcome', options.timeoutMs);
    } catch {
      failures++;
      ws.terminate();
    }
  };

  await forEachLimited(options.count, options.concurrency, openOne);
  return {
    sockets,
    counter,
    get failures() {
      return failures;
    },
    elapsedMs: performance.now() - started,
    open: () => sockets.filter((ws) => ws.readyState === WebSocket.OPEN).length,
    terminate: () => {
      for (const ws of sockets) ws.terminate();
    },
  };
}

/**
 * Subscribes every open socket to `topic` (`subscribe` → `subscribed`), then counts every frame
 * each receives in `sessions.counter` without parsing it.
 */
export async function subscribeAll(
  sessions: LoadSessions,
  topic: string,
  concurrency: number,
  timeoutMs: number,
): Promise<void> {
  const open = sessions.sockets.filter((ws) => ws.readyState === WebSocket.OPEN);
  const frame = JSON.stringify({ type: 'subscribe', id: 1, topic, after: 0 });
  await forEachLimited(open.length, concurrency, async (i) => {
    const ws = open[i]!;
    await exchange(ws, frame, 'subscribed', timeoutMs).catch(() => ws.terminate());
  });
  countFrames(sessions);
}

/** Counts every frame the open sockets receive from now on in `sessions.counter` (bare sockets). */
export function countFrames(sessions: LoadSessions): void {
  const count = (): void => {
    sessions.counter.received++;
  };
  for (const ws of sessions.sockets) if (ws.readyState === WebSocket.OPEN) ws.on('message', count);
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
    ws.send(helloFrame(options.token));
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
