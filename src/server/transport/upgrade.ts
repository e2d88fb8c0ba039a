import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { CloseCode } from '../../protocol/close-codes.js';
import type { Logger } from '../logger.js';
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
}

/** What {@link createSocketServer} is built from. */
export interface SocketServerOptions {
  /** Largest frame accepted; a larger one closes the socket with 4009. */
  maxPayloadBytes: number;
  logger: Logger;
  /** Called for every accepted socket; returns where its frames go. */
  accept(ws: WebSocket): FrameSink;
  /** Called once the socket closed, just before its sink is told. */
  closed(ws: WebSocket): void;
}

/** The WebSocket side of the server: completes upgrades and feeds each socket into its sink. */
export interface SocketServer {
  /** Completes a WebSocket upgrade (an HTTP `upgrade` event's arguments). */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Stops the `ws` server (open sockets are closed by their owner). */
  close(): void;
}

/**
 * Creates the WebSocket server: `ws` without its own HTTP server (the caller hands it upgrades),
 * without compression (frames are small JSON, and deflate costs memory per socket), without client
 * tracking (the caller tracks its sockets), and with frames over `maxPayloadBytes` closed with our
 * 4009 instead of `ws`'s 1009.
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

  const accept = (ws: WebSocket): void => {
    const sink = options.accept(ws);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      try {
        sink.receive(isBinary ? '' : frameText(data), isBinary);
      } catch (error) {
        logger.error(`frame handling failed: ${String(error)}`);
      }
    });
    ws.on('error', (error) => logger.warn(`socket error: ${error.message}`));
    ws.once('close', () => {
      options.closed(ws);
      sink.handleClose();
    });
  };

  return {
    handleUpgrade: (request, socket, head) => wss.handleUpgrade(request, socket, head, accept),
    close: () => wss.close(),
  };
}
