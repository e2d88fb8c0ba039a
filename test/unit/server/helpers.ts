import { randomUUID } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import { WebSocket, type ClientOptions } from 'ws';
import { PROTOCOL_VERSION } from '../../../src/protocol/version.js';
import type { ServerMessage } from '../../../src/protocol/messages.js';
import { createSessionServer } from '../../../src/server/index.js';
import type { SessionServer, SessionServerOptions } from '../../../src/server/index.js';

export const SECRET = 'unit-test-secret-that-is-long-enough-for-hs256';

/** Starts a server on a free port with the test secret and no logs, unless overridden. */
export function startServer(options: Partial<SessionServerOptions> = {}): Promise<SessionServer> {
  return createSessionServer({ port: 0, logger: false, auth: { secret: SECRET }, ...options });
}

export interface MintOptions {
  secret?: string | Uint8Array;
  /** Seconds until exp; `null` for no exp. Default 3600. */
  expiresIn?: number | null;
  alg?: string;
}

/** Signs an HS256 token for `claims` (a `sub` is added unless given, `undefined` removes it). */
export function mint(
  claims: Omit<JWTPayload, 'sub'> & { sub?: string | undefined } = {},
  options: MintOptions = {},
): Promise<string> {
  const { sub, ...others } = claims;
  const payload: JWTPayload = others;
  if (!('sub' in claims)) payload.sub = 'alice';
  else if (sub !== undefined) payload.sub = sub;
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: options.alg ?? 'HS256' }).setIssuedAt();
  const expiresIn = options.expiresIn === undefined ? 3600 : options.expiresIn;
  if (expiresIn !== null && claims.exp === undefined) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + expiresIn);
  const secret = options.secret ?? SECRET;
  return jwt.sign(typeof secret === 'string' ? new TextEncoder().encode(secret) : secret);
}

export interface Closed {
  code: number;
  reason: string;
}

/** A `ws` client that queues the server's frames so tests can await them in order. */
export class TestClient {
  readonly ws: WebSocket;
  readonly closed: Promise<Closed>;
  readonly #queue: ServerMessage[] = [];
  readonly #waiters: Array<(message: ServerMessage) => void> = [];

  private constructor(ws: WebSocket) {
    this.ws = ws;
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    ws.on('error', () => {});
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      const waiter = this.#waiters.shift();
      if (waiter) waiter(message);
      else this.#queue.push(message);
    });
  }

  /** Opens a socket to `url` and waits until it is open. */
  static async connect(url: string, options?: ClientOptions): Promise<TestClient> {
    const ws = new WebSocket(url, options);
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return client;
  }

  /** Sends an object as JSON, or a string / buffer as is. */
  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** The next server frame (rejects after `timeoutMs`, or when the socket closes first). */
  next(timeoutMs = 5000): Promise<ServerMessage> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const waiter = (message: ServerMessage) => {
        clearTimeout(timer);
        resolve(message);
      };
      const giveUp = (error: Error) => {
        clearTimeout(timer);
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(error);
      };
      const timer = setTimeout(() => giveUp(new Error(`no frame within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push(waiter);
      void this.closed.then(({ code }) => giveUp(new Error(`socket closed (${code}) before the next frame`)));
    });
  }

  /** Frames received and not yet read with `next()`. */
  drain(): ServerMessage[] {
    return this.#queue.splice(0);
  }

  /** Sends `hello` and returns the answer (normally `welcome`). */
  hello(token: string, fields: { sessionId?: string; schemaVersion?: number; protocol?: number } = {}) {
    this.send({ type: 'hello', protocol: PROTOCOL_VERSION, token, sessionId: randomUUID(), ...fields });
    return this.next();
  }

  close(): Promise<Closed> {
    this.ws.close();
    return this.closed;
  }
}

/** Connects and completes the handshake; throws unless the server answers `welcome`. */
export async function connectSession(
  server: SessionServer,
  token: string,
  fields: { sessionId?: string; schemaVersion?: number } = {},
): Promise<{ client: TestClient; welcome: Extract<ServerMessage, { type: 'welcome' }> }> {
  const client = await TestClient.connect(server.url);
  const welcome = await client.hello(token, fields);
  if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(welcome)}`);
  return { client, welcome };
}

/** Resolves once `condition()` holds (for server-side bookkeeping that has no client-visible event). */
export async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
