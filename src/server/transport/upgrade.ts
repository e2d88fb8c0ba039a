import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import type { Logger } from '../logger.js';
import { Admission, refuseUpgrade, type AdmissionLimits, type AdmissionTicket } from './admission.js';
import { closeReason, frameText } from './socket.js';

/** Close code `ws` uses when a frame exceeds `maxPayload` (it uses 1009 for nothing else). */
const WS_MESSAGE_TOO_BIG = 1009;

/** Where an accepted socket's frames and its close go: a `Connection`. */
export interface FrameSink {
  /**
   * One frame.
   *
   * @param data - the frame's text (empty for binary frames)
   * @param isBinary - whether it was a binary frame
   */
  receive(data: string, isBinary: boolean): void;
  /** The socket closed. */
  handleClose(): void;
  /** The socket sent more raw bytes than the pre-hello budget before it authenticated. */
  preHelloLimitExceeded(): void;
}

/** What {@link createSocketServer} is built from. */
export interface SocketServerOptions {
  /** Largest frame accepted; a larger one closes the socket with 4009. */
  maxPayloadBytes: number;
  /** Caps and byte budget of sockets that have not authenticated yet. */
  admission: AdmissionLimits;
  logger: Logger;
  /**
   * Called for every accepted socket; returns where its frames go. The sink calls
   * `ticket.authenticated()` once the socket authenticated.
   */
  accept(ws: WebSocket, ticket: AdmissionTicket): FrameSink;
  /** Called once the socket closed, just before its sink is told. */
  closed(ws: WebSocket): void;
}

/** The WebSocket side of the server: completes upgrades and feeds each socket into its sink. */
export interface SocketServer {
  /** Completes a WebSocket upgrade (an HTTP `upgrade` event's arguments). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Stops the `ws` server (open sockets are closed by their owner). */
  close(): void;
  /** Sockets open and not authenticated yet. */
  readonly unauthenticated: number;
  /** Upgrades refused by the caps on unauthenticated sockets since the server started. */
  readonly refusedUpgrades: number;
}

/**
 * Creates the WebSocket server: `ws` without its own HTTP server (the caller hands it upgrades),
 * without compression (frames are small JSON, and deflate costs memory per socket), without client
 * tracking (the caller tracks its sockets), and with frames over `maxPayloadBytes` closed with our
 * 4009 instead of `ws`'s 1009. Upgrades over the caps on unauthenticated sockets are answered HTTP
 * 503 (overall) or 429 (per IP) before `ws` sees them; an admitted socket that sends more than the
 * pre-hello budget before it authenticated is handed to its sink's `preHelloLimitExceeded`.
 *
 * @param options - limits, logger, and where accepted sockets go
 */
export function createSocketServer(options: SocketServerOptions): SocketServer {
  const { maxPayloadBytes, logger } = options;
  const tooLarge = closeReason(`message too large (limit ${maxPayloadBytes} bytes)`);

  // ws closes an oversized frame's socket with 1009 before telling us; this subclass (the documented
  // `WebSocket` option of WebSocketServer) turns that close into our 4009.
  class SessionSocket extends WebSocket {
    override close(code?: number, data?: string | Buffer): void {
      if (code === WS_MESSAGE_TOO_BIG) super.close(CloseCode.MESSAGE_TOO_LARGE, tooLarge);
      else super.close(code, data);
    }
  }

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxPayloadBytes,
    perMessageDeflate: false,
    clientTracking: false,
    WebSocket: SessionSocket,
  });

  const admission = new Admission(options.admission);
  let refusedUpgrades = 0;

  const accept = (ws: WebSocket, ticket: AdmissionTicket, exceeded: { sink?: FrameSink; early: boolean }): void => {
    const sink = options.accept(ws, ticket);
    exceeded.sink = sink;
    if (exceeded.early) sink.preHelloLimitExceeded();
    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        sink.receive(isBinary ? '' : frameText(data), isBinary);
      } catch (error) {
        logger.error(`frame handling failed: ${String(error)}`);
      }
    });
    ws.on('error', (error) => logger.warn(`socket error: ${error.message}`));
    ws.once('close', () => {
      ticket.release();
      options.closed(ws);
      sink.handleClose();
    });
  };

  return {
    handleUpgrade(request, socket, head) {
      // Over the budget before the sink exists (bytes that came with the upgrade): told on accept.
      const exceeded: { sink?: FrameSink; early: boolean } = { early: false };
      const ticket = admission.admit(socket, head, () => {
        if (exceeded.sink === undefined) exceeded.early = true;
        else exceeded.sink.preHelloLimitExceeded();
      });
      if ('status' in ticket) {
        refusedUpgrades++;
        return refuseUpgrade(socket, ticket);
      }
      // A handshake that fails (a bad request) never reaches accept: release its ticket.
      socket.once('close', () => ticket.release());
      wss.handleUpgrade(request, socket, head, (ws) => accept(ws, ticket, exceeded));
    },
    close: () => wss.close(),
    get unauthenticated() {
      return admission.unauthenticated;
    },
    get refusedUpgrades() {
      return refusedUpgrades;
    },
  };
}
