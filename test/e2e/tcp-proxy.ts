import { createServer, Socket, type AddressInfo } from 'node:net';

/** A TCP proxy a test owns, in front of the session server: the only way to fault the worker's socket. */
export interface TcpProxy {
  /** `ws://127.0.0.1:PORT`: give this to the client as `serverUrl`. */
  url: string;
  port: number;
  /** Connections accepted and piped so far. */
  readonly connectionsAccepted: number;
  /** Connections currently piped. */
  readonly openConnections: number;
  /** Destroys every piped connection: the browser sees close code 1006 within ~20 ms. */
  cut(): number;
  /** While on, new connections are reset at once, so reconnects fail. */
  refuse(on: boolean): void;
  /** Accepts connections again (`refuse(false)`). */
  restore(): void;
  close(): Promise<void>;
}

/**
 * Starts a proxy on 127.0.0.1 and a free port that pipes every connection to `targetPort`.
 * `context.setOffline` does not cut live WebSockets and Playwright cannot see a SharedWorker's socket
 * (testing-notes), so network faults are injected here.
 */
export async function createTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let refusing = false;
  let accepted = 0;

  const server = createServer((client) => {
    if (refusing) {
      client.resetAndDestroy();
      return;
    }
    accepted++;
    const upstream = new Socket();
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.connect(targetPort, targetHost, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;

  const cut = () => {
    const n = pairs.size;
    for (const [client, upstream] of [...pairs]) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    return n;
  };

  return {
    url: `ws://127.0.0.1:${port}`,
    port,
    get connectionsAccepted() {
      return accepted;
    },
    get openConnections() {
      return pairs.size;
    },
    cut,
    refuse(on) {
      refusing = on;
    },
    restore() {
      refusing = false;
    },
    close() {
      refusing = true;
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
