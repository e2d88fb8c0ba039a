/** The part of a `ws` socket the heartbeat uses. */
export interface PingableSocket {
  ping(): void;
  terminate(): void;
  on(event: 'pong', listener: () => void): unknown;
}

/**
 * Pings every tracked socket each interval; a socket that has not answered the previous ping by
 * the next tick is terminated (its peer is gone or frozen, and TCP alone may not notice for hours).
 */
export class Heartbeat<S extends PingableSocket> {
  readonly #sockets: () => Iterable<S>;
  readonly #awaitingPong = new WeakSet<S>();
  readonly #timer: ReturnType<typeof setInterval>;

  /**
   * @param intervalMs - time between pings
   * @param sockets - the sockets to ping, read at every tick
   * @param onTick - also run at every tick (housekeeping)
   */
  constructor(intervalMs: number, sockets: () => Iterable<S>, onTick: () => void = () => {}) {
    this.#sockets = sockets;
    this.#timer = setInterval(() => {
      this.#tick();
      onTick();
    }, intervalMs);
    this.#timer.unref();
  }

  /**
   * Starts watching `socket`'s pongs. Call once per socket, when it is accepted.
   *
   * @param socket - a newly accepted socket
   */
  track(socket: S): void {
    socket.on('pong', () => this.#awaitingPong.delete(socket));
  }

  /** Stops pinging. */
  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    for (const socket of this.#sockets()) {
      try {
        if (this.#awaitingPong.has(socket)) {
          socket.terminate();
          continue;
        }
        this.#awaitingPong.add(socket);
        socket.ping();
      } catch {
        // ping() throws only when the socket is no longer open; its close event cleans it up.
      }
    }
  }
}
