import type { Duplex } from 'node:stream';

/**
 * Admission of sockets that have not authenticated yet (spec §7 "Limits that hold under
 * attack"): caps on how many may be open at once, overall and per IP address, checked at the
 * upgrade before `ws` allocates anything; and a byte budget each one may send before `welcome`,
 * counted on the raw TCP stream, so that neither one big frame nor many small ones can make the
 * server hold more than the budget for a socket that never authenticates.
 *
 * @module
 */

/** The caps of {@link Admission}. */
export interface AdmissionLimits {
  /** Most unauthenticated sockets at once. */
  maxUnauthenticated: number;
  /** Most unauthenticated sockets at once from one IP address. */
  maxUnauthenticatedPerIp: number;
  /** Raw bytes one socket may send before it authenticated. */
  maxPreHelloBytes: number;
}

/** Why an upgrade is refused: the HTTP status and its reason phrase. */
export interface UpgradeRefusal {
  status: 429 | 503;
  message: string;
}

/** One admitted unauthenticated socket, until it authenticates or closes. */
export interface AdmissionTicket {
  /** The socket authenticated: it no longer counts, and its bytes are no longer counted. Idempotent. */
  authenticated(): void;
  /** The socket closed. Idempotent. */
  release(): void;
}

/**
 * Counts unauthenticated sockets and hands out {@link AdmissionTicket}s.
 *
 * @example
 * ```ts
 * const admission = new Admission({ maxUnauthenticated: 1024, maxUnauthenticatedPerIp: 256, maxPreHelloBytes: 20_480 });
 * const ticket = admission.admit(socket, head, () => connection.preHelloLimitExceeded());
 * if ('status' in ticket) return refuseUpgrade(socket, ticket);
 * ```
 */
export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #perIp = new Map<string, number>();
  #total = 0;

  /** @param limits - the caps */
  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  /** Unauthenticated sockets now. */
  get unauthenticated(): number {
    return this.#total;
  }

  /**
   * Admits a socket being upgraded, or says why not. An admitted socket's raw bytes are counted
   * from `head` on; `overBudget` is called once when they pass the pre-hello budget.
   *
   * @param socket - the upgrade's TCP socket
   * @param head - the bytes that came with the upgrade request
   * @param overBudget - called once when the socket sent more than the budget before it authenticated
   */
  admit(
    socket: Duplex & { remoteAddress?: string | undefined },
    head: Buffer,
    overBudget: () => void,
  ): AdmissionTicket | UpgradeRefusal {
    const ip = socket.remoteAddress ?? 'unknown';
    if (this.#total >= this.#limits.maxUnauthenticated) return { status: 503, message: 'Service Unavailable' };
    const fromIp = this.#perIp.get(ip) ?? 0;
    if (fromIp >= this.#limits.maxUnauthenticatedPerIp) return { status: 429, message: 'Too Many Requests' };
    this.#total++;
    this.#perIp.set(ip, fromIp + 1);

    let counted = true;
    let bytes = head.length;
    let exceeded = false;
    const onData = (chunk: Buffer): void => {
      bytes += chunk.length;
      if (exceeded || bytes <= this.#limits.maxPreHelloBytes) return;
      exceeded = true;
      stopCounting();
      overBudget();
    };
    const stopCounting = (): void => {
      socket.off('data', onData);
    };
    socket.on('data', onData);
    const release = (): void => {
      stopCounting();
      if (!counted) return;
      counted = false;
      this.#total--;
      const left = (this.#perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.#perIp.set(ip, left);
      else this.#perIp.delete(ip);
    };
    if (bytes > this.#limits.maxPreHelloBytes) {
      exceeded = true;
      stopCounting();
      queueMicrotask(overBudget);
    }
    return { authenticated: release, release };
  }
}

/**
 * Answers a refused upgrade with a bare HTTP response and closes the TCP connection: nothing of
 * WebSocket is set up for it. A browser sees the failed handshake as close 1006 and reconnects
 * with backoff.
 *
 * @param socket - the upgrade's TCP socket
 * @param refusal - the status
 */
export function refuseUpgrade(socket: Duplex, refusal: UpgradeRefusal): void {
  const body = `${refusal.message}: too many unauthenticated connections\n`;
  socket.end(
    `HTTP/1.1 ${refusal.status} ${refusal.message}\r\n` +
      'Connection: close\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.on('error', () => {});
  // A peer that does not read the answer must not hold the socket.
  setTimeout(() => socket.destroy(), 1_000).unref();
}
