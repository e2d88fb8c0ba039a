import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/**
 * A TCP client that speaks just enough WebSocket to attack a server the way a script would: it
 * completes the upgrade, writes (masked) frames or parts of frames, never answers a close frame
 * and never reads unless asked. For the attack suite only.
 */
export interface RawSocket {
  readonly socket: Socket;
  /** The HTTP status line of the upgrade answer (`HTTP/1.1 101 …`, `… 429 …`). */
  readonly status: string;
  /** Resolves when the server ended or destroyed the TCP connection. */
  readonly ended: Promise<void>;
  /** Bytes received after the upgrade (close frames, …). */
  received(): Buffer;
  /** The close code of a close frame the server sent, if one arrived. */
  closeCode(): number | undefined;
  /** Writes a frame header for a text frame of `length` payload bytes, then `payload` (masked). */
  writeFrame(payload: Buffer, declaredLength?: number): void;
  destroy(): void;
}

/**
 * Opens a TCP connection to `url` (ws://host:port) and sends an upgrade request.
 *
 * @param url - the server's WebSocket URL
 */
export function openRaw(url: string): Promise<RawSocket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on('error', () => {});
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let buffer = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      const key = randomBytes(16).toString('base64');
      socket.write(
        `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let status: string | undefined;
    let after = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (status !== undefined) {
        after = Buffer.concat([after, chunk]);
        return;
      }
      buffer = Buffer.concat([buffer, chunk]);
      const end = buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      status = buffer.subarray(0, buffer.indexOf('\r\n')).toString();
      after = buffer.subarray(end + 4);
      resolve({
        socket,
        status,
        ended,
        received: () => after,
        closeCode() {
          // A server frame is unmasked: 0x88, length, code.
          const at = after.indexOf(0x88);
          return at >= 0 && after.length >= at + 4 ? after.readUInt16BE(at + 2) : undefined;
        },
        writeFrame(payload, declaredLength = payload.length) {
          const mask = randomBytes(4);
          let header: Buffer;
          if (declaredLength < 126) header = Buffer.from([0x81, 0x80 | declaredLength]);
          else if (declaredLength < 65536) {
            header = Buffer.alloc(4);
            header[0] = 0x81;
            header[1] = 0x80 | 126;
            header.writeUInt16BE(declaredLength, 2);
          } else {
            header = Buffer.alloc(10);
            header[0] = 0x81;
            header[1] = 0x80 | 127;
            header.writeBigUInt64BE(BigInt(declaredLength), 2);
          }
          const masked = Buffer.from(payload);
          for (let i = 0; i < masked.length; i++) masked[i] = (masked[i] ?? 0) ^ (mask[i % 4] ?? 0);
          socket.write(Buffer.concat([header, mask, masked]));
        },
        destroy: () => socket.destroy(),
      });
    });
    socket.once('close', () => {
      if (status === undefined) reject(new Error('closed before the upgrade answer'));
    });
  });
}
