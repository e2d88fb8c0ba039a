import { createServer, Socket, type AddressInfo } from 'node:net';

/**
 * A TCP proxy a test owns, between the browser and the session server. Playwright cannot see a
 * SharedWorker's socket and `context.setOffline()` does not cut live WebSockets, so this is how a
 * test takes the network away from the host.
 */
export interface TcpProxy {
  /** `ws://127.0.0.1:PORT`: pass it to the app as the server URL. */
  readonly url: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly connectionsAccepted: number;
  /** Connections currently piped. */
  readonly openConnections: number;
  /**
   * Destroys every piped connection (the browser sees close code 1006 within ~20 ms) and, until
   * {@link restore}, refuses new ones, so the host's reconnects fail.
   *
   * @returns the number of connections cut
   */
  cut(): number;
  /** Accepts connections again; the host reconnects on its next backoff step. */
  restore(): void;
  /** Destroys every piped connection but keeps accepting new ones (a blip, not an outage). */
  drop(): number;
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy on 127.0.0.1 and a free port that pipes every connection to `target`.
 * Import from `shared-session/testing`.
 *
 * @param target - where the session server listens
 * @example
 * ```ts
 * const proxy = await createTcpProxy({ port: server.port });
 * await page.goto(`/?server=${proxy.url}`);
 * proxy.cut();     // the host goes offline
 * proxy.restore(); // and comes back
 * ```
 */
export async function createTcpProxy(target: { port: number; host?: string }): Promise<TcpProxy> {
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
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    upstream.connect(target.port, target.host ?? '127.0.0.1', () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const drop = (): number => {
    const count = pairs.size;
    for (const [client, upstream] of [...pairs]) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    return count;
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
    cut() {
      refusing = true;
      return drop();
    },
    restore() {
      refusing = false;
    },
    drop,
    close: () =>
      new Promise<void>((resolve) => {
        drop();
        server.close(() => resolve());
      }),
  };
}
