import type { DevtoolsClient } from '../../../src/devtools/inspector.js';
import type { SessionErrorType } from '../../../src/protocol/error-codes.js';
import type { ConnectionStatus, HostInspection, HostKind, SessionInfo } from '../../../src/protocol/host-api.js';

/** A host inspection with everything set (a signed-in session, two tabs, one close, one refresh). */
export function sampleInspection(overrides: Partial<HostInspection> = {}): HostInspection {
  const at = Date.UTC(2026, 0, 1, 12, 0, 0);
  return {
    kind: 'shared-worker',
    buildId: 'shared-session@0.1.0+abc /assets/worker.js',
    status: 'OPEN',
    tabs: 2,
    socketsOpened: 2,
    refreshes: 1,
    sessionId: '11111111-2222-3333-4444-555555555555',
    clockOffsetMs: 0,
    topics: 1,
    tabSubscriptions: 2,
    changesReceived: 7,
    outbox: 1,
    session: {
      id: '11111111-2222-3333-4444-555555555555',
      userId: 'alice',
      roles: ['member'],
      expiresAt: at + 30_000,
      tabs: 2,
    },
    phase: 'live',
    error: undefined,
    nextRefreshAt: at + 29_000,
    tabList: [
      {
        tabId: 'aaaaaaaa-0000-0000-0000-000000000001',
        visible: true,
        attachedAt: at,
        buildId: 'shared-session@0.1.0+abc',
        refreshHandlers: 1,
      },
      {
        tabId: 'bbbbbbbb-0000-0000-0000-000000000002',
        visible: false,
        attachedAt: at,
        buildId: 'shared-session@0.0.9+old',
        refreshHandlers: 0,
      },
    ],
    closes: [
      { at: at - 2000, code: 1006, reason: '' },
      { at: at - 1000, code: 4503, reason: 'server shutting down' },
    ],
    refreshHistory: [
      {
        at: at - 500,
        outcome: 'refreshed',
        tabId: 'cccccccc-0000-0000-0000-000000000003',
        durationMs: 42,
        failovers: 1,
      },
    ],
    topicList: [{ topic: 'feed:public', cursor: 7, cached: 7, subscribers: 2, live: true }],
    outboxEntries: [
      { clientId: 'dddddddd-0000-0000-0000-000000000004', topic: 'feed:public', createdAt: at, inFlight: false },
    ],
    log: [
      { at: at - 2000, line: 'closed 1006' },
      { at: at - 1000, line: 'dialing ws://127.0.0.1:1/' },
    ],
    ...overrides,
  };
}

/** A client for the devtools' unit tests: answers `inspect()` with what the test says and counts listeners. */
export class FakeDevtoolsClient implements DevtoolsClient {
  connectionStatus: ConnectionStatus = 'OPEN';
  hostKind: HostKind = 'shared-worker';
  /** Calls of `inspect()` so far. */
  inspections = 0;
  /** What the next `inspect()` answers. */
  answer: () => Promise<HostInspection> = async () => sampleInspection();
  readonly #status = new Set<(status: ConnectionStatus) => void>();
  readonly #session = new Set<(session: SessionInfo | undefined) => void>();
  readonly #errors = new Set<(type: SessionErrorType) => void>();

  /** Listeners registered and not removed, over all three events. */
  get listeners(): number {
    return this.#status.size + this.#session.size + this.#errors.size;
  }

  inspect(): Promise<HostInspection> {
    this.inspections++;
    return this.answer();
  }

  onConnectionStatusChange(callback: (status: ConnectionStatus) => void, runImmediately = false): () => void {
    this.#status.add(callback);
    if (runImmediately) callback(this.connectionStatus);
    return () => this.#status.delete(callback);
  }

  onSessionChange(callback: (session: SessionInfo | undefined) => void): () => void {
    this.#session.add(callback);
    return () => this.#session.delete(callback);
  }

  onSessionError(callback: (type: SessionErrorType) => void): () => void {
    this.#errors.add(callback);
    return () => this.#errors.delete(callback);
  }

  /** Emits a status change. */
  setStatus(status: ConnectionStatus): void {
    this.connectionStatus = status;
    for (const callback of this.#status) callback(status);
  }

  /** Emits a session change. */
  changeSession(session: SessionInfo | undefined): void {
    for (const callback of this.#session) callback(session);
  }

  /** Emits a session error. */
  failSession(type: SessionErrorType): void {
    for (const callback of this.#errors) callback(type);
  }
}
