import type { RawData } from 'ws';
import { MAX_CLOSE_REASON_BYTES } from '../constants.js';

/**
 * The socket as the server uses it: the part a connection writes to ({@link SocketLike}), the
 * text of a frame, close reasons cut to the protocol's limit, and the heartbeat that terminates
 * sockets whose peer is gone.
 *
 * @module
 */

/**
 * One serialised server message: its JSON text, or that text's UTF-8 bytes — a fan-out encodes a
 * change once and writes the same bytes to every socket (sent as a text frame either way).
 */
export type OutgoingFrame = string | Buffer;

/** `ws` send options of bytes that are a text frame's payload. */
const TEXT_FRAME = { binary: false } as const;

/**
 * Sends `frame` on `socket` as a text frame.
 *
 * @param socket - an open socket
 * @param frame - JSON text, or its UTF-8 bytes
 */
export function sendTextFrame(socket: SocketLike, frame: OutgoingFrame): void {
  if (typeof frame === 'string') socket.send(frame);
  else socket.send(frame, TEXT_FRAME);
}

/** The part of a WebSocket a connection uses; `ws`'s `WebSocket` satisfies it. */
export interface SocketLike {
  /** Sends a text frame: a string, or UTF-8 bytes with `{ binary: false }`. */
  send(data: string): void;
  send(data: Buffer, options: { binary: false }): void;
  close(code: number, reason: string): void;
  /** Destroys the socket at once, without waiting for the peer to answer a close frame. */
  terminate(): void;
  /** Stops reading the socket (TCP pushes back on the peer) until {@link SocketLike.resume}. */
  pause(): void;
  /** Reads the socket again after {@link SocketLike.pause}. */
  resume(): void;
  /** Bytes passed to `send` and not yet written to the network. */
  readonly bufferedAmount: number;
}

/**
 * The text of a frame as `ws` delivers it (one buffer, fragments, or an `ArrayBuffer`).
 *
 * @param data - a text frame's payload
 */
export function frameText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

const encoder = new TextEncoder();

/**
 * Shortens `reason` to at most {@link MAX_CLOSE_REASON_BYTES} UTF-8 bytes without splitting a
 * character, as a WebSocket close frame requires (RFC 6455 §5.5: 125-byte control payload minus the
 * 2-byte code). `ws` throws on a longer reason.
 *
 * @param reason - any text
 */
export function closeReason(reason: string): string {
  if (encoder.encode(reason).length <= MAX_CLOSE_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const char of reason) {
    const size = encoder.encode(char).length;
    if (bytes + size > MAX_CLOSE_REASON_BYTES - 3) break;
    out += char;
    bytes += size;
  }
  return `${out}...`;
}

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
