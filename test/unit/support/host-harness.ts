import * as Comlink from 'comlink';
import { createHmac } from 'node:crypto';
import type { HostEvent, TabCallbacks, TabMessage } from '../../../src/protocol/host-api.js';
import type { ClientMessage, ServerMessage } from '../../../src/protocol/messages.js';
import { HOST_API_VERSION } from '../../../src/protocol/version.js';
import { createOutboxStore } from '../../../src/worker/outbox-store.js';
import { SessionHost } from '../../../src/worker/session-host.js';
import { createSessionStore } from '../../../src/worker/session-store.js';
import { createTopicCacheStore } from '../../../src/worker/topic-cache-store.js';
import { FakeClock } from './fake-clock.js';

/** What a fake server does with a `hello`: welcome it, close with a code, or say nothing. */
export type HelloReply = { welcome: true; thenClose?: number } | { close: number; reason?: string } | { silent: true };

/**
 * A scriptable stand-in for the reference server behind a fake WebSocket: the host under test
 * dials it through `createSocket`, it answers the protocol's requests, and the test reads what the
 * host sent and closes sockets at will. Time comes from the test's {@link FakeClock}.
 */
export class FakeServer {
  readonly clock: FakeClock;
  /** Server clock minus the host's clock, ms. */
  skewMs = 0;
  readonly sockets: FakeSocket[] = [];
  /** How the next `hello` is answered. */
  onHello: (socket: FakeSocket) => HelloReply = () => ({ welcome: true });
  /** Token updates received, in order. */
  readonly tokenUpdates: string[] = [];
  /**
   * What the server makes of a token (its verification): by default a JWT's `sub`, `roles` and
   * `exp` with roles claim `roles`; return `undefined` to refuse the token (4001 at hello, an
   * UNAUTHORIZED error on update).
   */
  verify: (token: string) => FakeIdentity | undefined = readFakeJwt;

  constructor(clock: FakeClock) {
    this.clock = clock;
  }

  /** The `createSocket` to pass to the host. */
  readonly createSocket = (url: string): WebSocket => {
    const socket = new FakeSocket(this, url);
    this.sockets.push(socket);
    return socket as unknown as WebSocket;
  };

  /** Sockets not closed yet. */
  get open(): FakeSocket[] {
    return this.sockets.filter((s) => s.readyState === 1);
  }

  /** Called by a socket for each frame the host sent. */
  receive(socket: FakeSocket, message: ClientMessage): void {
    switch (message.type) {
      case 'hello': {
        const reply = this.onHello(socket);
        if ('close' in reply) return socket.serverClose(reply.close, reply.reason ?? '');
        if ('silent' in reply) return;
        const identity = this.verify(message.token);
        if (!identity) return socket.serverClose(4001, 'token refused');
        socket.deliver({
          type: 'welcome',
          protocol: message.protocol,
          sessionId: message.sessionId,
          userId: identity.userId,
          roles: identity.roles,
          expiresAt: identity.expiresAt,
          rolesClaim: identity.rolesClaim,
          serverTime: this.clock.now() + this.skewMs,
          resumed: false,
        } as ServerMessage);
        if (reply.thenClose !== undefined) socket.serverClose(reply.thenClose);
        return;
      }
      case 'update-token': {
        this.tokenUpdates.push(message.token);
        const identity = this.verify(message.token);
        if (!identity) {
          return socket.deliver({ type: 'error', id: message.id, code: 'UNAUTHORIZED', message: 'token refused' });
        }
        return socket.deliver({
          type: 'token-updated',
          id: message.id,
          expiresAt: identity.expiresAt,
          roles: identity.roles,
        } as ServerMessage);
      }
      case 'ping':
        return socket.deliver({ type: 'pong', id: message.id, serverTime: this.clock.now() + this.skewMs });
      case 'subscribe':
        return socket.deliver({ type: 'subscribed', id: message.id, topic: message.topic, head: 0 });
      case 'end':
        return socket.serverClose(4005, 'session ended');
      default:
        return;
    }
  }
}

/** What the fake server learned from a token. */
export interface FakeIdentity {
  userId: string;
  roles: string[];
  expiresAt: number | null;
  /** What `welcome.rolesClaim` says (`null`: the server verifies through `auth.verify`). */
  rolesClaim: string | null;
}

/** The default verification: an unsigned read of a JWT's `sub`, `roles` and `exp` (claim `roles`). */
export function readFakeJwt(token: string): FakeIdentity | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as {
      sub?: string;
      roles?: string[];
      exp?: number;
    };
    if (typeof claims.sub !== 'string') return undefined;
    return {
      userId: claims.sub,
      roles: [...(claims.roles ?? [])].sort(),
      expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
      rolesClaim: 'roles',
    };
  } catch {
    return undefined;
  }
}

/** The WebSocket surface the host uses, driven by a {@link FakeServer}. */
export class FakeSocket {
  readonly server: FakeServer;
  readonly url: string;
  /** Fake time at which the host created this socket. */
  readonly dialedAt: number;
  readyState = 0;
  readonly sent: ClientMessage[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: (() => void) | null = null;

  constructor(server: FakeServer, url: string) {
    this.server = server;
    this.url = url;
    this.dialedAt = server.clock.now();
    queueMicrotask(() => {
      if (this.readyState !== 0) return;
      this.readyState = 1;
      this.onopen?.();
    });
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('socket not open');
    const message = JSON.parse(data) as ClientMessage;
    this.sent.push(message);
    queueMicrotask(() => this.server.receive(this, message));
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code, reason }));
  }

  /** The server sends a frame. */
  deliver(message: ServerMessage): void {
    if (this.readyState !== 1) return;
    queueMicrotask(() => this.onmessage?.({ data: JSON.stringify(message) }));
  }

  /** The server (or the network) closes the socket. */
  serverClose(code: number, reason = ''): void {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    queueMicrotask(() => this.onclose?.({ code, reason }));
  }
}

/** One tab attached to the host under test. */
export interface FakeTab {
  tabId: string;
  /** Every event the host sent this tab. */
  events: HostEvent[];
  /** Calls of this tab's refresh handler, with the fake time of each. */
  refreshCalls: number[];
  /** The tab's refresh handler; replace it to script answers. */
  handler: () => Promise<string | undefined>;
}

/** A host with a fake clock, a fake server and in-memory stores, as unit tests drive it. */
export async function startHost(options: { lastTabGraceMs?: number } = {}) {
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  /** Takes the socket-owner lock away from the host, as a new leader's `steal` does. */
  let loseOwnership: () => void = () => undefined;
  const host = new SessionHost({
    kind: 'shared-worker',
    buildId: 'unit-test',
    stores: {
      session: Promise.resolve(createSessionStore(undefined)),
      topics: Promise.resolve(createTopicCacheStore(undefined)),
      outbox: Promise.resolve(createOutboxStore(undefined)),
    },
    createSocket: server.createSocket,
    acquireOwnership: async () => ({
      release: () => undefined,
      lost: new Promise<void>((resolve) => (loseOwnership = resolve)),
    }),
    clock,
    locks: undefined,
    lastTabGraceMs: options.lastTabGraceMs,
  });
  const serverUrl = 'ws://fake.test';

  async function attachTab(visible = true): Promise<FakeTab> {
    const tab: FakeTab = {
      tabId: crypto.randomUUID(),
      events: [],
      refreshCalls: [],
      handler: async () => undefined,
    };
    const callbacks: TabCallbacks & { [Comlink.releaseProxy](): void } = {
      refreshToken: async () => {
        tab.refreshCalls.push(clock.now());
        return tab.handler();
      },
      [Comlink.releaseProxy]: () => undefined,
    };
    const events = {
      postMessage: (message: TabMessage) => {
        if (message.type === 'event') tab.events.push(message.event);
      },
      close: () => undefined,
    };
    await host.attach(
      { tabId: tab.tabId, lockName: `lock-${tab.tabId}`, protocol: HOST_API_VERSION, buildId: 'unit-test', visible },
      callbacks,
      events,
    );
    return tab;
  }

  /** `startSession` from `tab`, with a refresh handler registration when `refresh` is given. */
  function start(tab: FakeTab, token: string, refresh?: { interval?: number }, autoConnect = true) {
    return host.startSession(tab.tabId, {
      token,
      autoConnect,
      serverUrl,
      ...(refresh && { refresh: { refreshId: crypto.randomUUID(), ...refresh } }),
    });
  }

  return { clock, server, host, attachTab, start, serverUrl, loseOwnership: () => loseOwnership() };
}

const secret = 'host-unit-tests';
const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/**
 * A JWT (HS256) for `sub` expiring `ttlMs` after `now` (the fake clock's epoch ms); no `exp` when
 * `ttlMs` is null. Signed synchronously with node:crypto, so that a refresh handler answering with
 * it settles within the fake clock's microtask flush (WebCrypto signing would resolve on a thread).
 */
export function tokenFor(
  now: number,
  ttlMs: number | null,
  claims: { sub?: string; roles?: string[] } & Record<string, unknown> = {},
): string {
  const payload: Record<string, unknown> = {
    roles: [],
    ...claims,
    sub: claims.sub ?? 'alice',
    iat: Math.floor(now / 1000),
  };
  if (ttlMs !== null) payload.exp = Math.floor((now + ttlMs) / 1000);
  const signingInput = `${base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${base64url(JSON.stringify(payload))}`;
  return `${signingInput}.${createHmac('sha256', secret).update(signingInput).digest('base64url')}`;
}

/** Session errors a tab heard. */
export function sessionErrors(tab: FakeTab): string[] {
  return tab.events.flatMap((e) => (e.type === 'session-error' ? [e.error] : []));
}

/** Status changes a tab heard. */
export function statuses(tab: FakeTab): string[] {
  return tab.events.flatMap((e) => (e.type === 'status' ? [e.status] : []));
}
