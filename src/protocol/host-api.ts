import type { SessionErrorCode, SessionErrorType } from './error-codes.js';
import type { JsonValue } from './messages.js';
import type { HOST_API_VERSION } from './version.js';

/**
 * The RPC boundary between a tab (`SessionClient`) and its session host, typed once for both
 * sides. The page calls {@link HostApi} through `comlink.wrap<HostApi>(port)`; the host calls back
 * into each tab through the {@link TabCallbacks} proxy the tab handed over in `attach`.
 */

/** Connection status as Triplit reports it. */
export type ConnectionStatus = 'UNINITIALIZED' | 'CONNECTING' | 'OPEN' | 'CLOSING' | 'CLOSED';

/** What a tab learns about the running session. */
export interface SessionInfo {
  /** Session id, stable across reconnects, reloads and host restarts for the same user. */
  id: string;
  /** The token's `sub`. */
  userId: string;
  /** Roles from the token's roles claim. */
  roles: string[];
  /** Token expiry in epoch milliseconds on the **server's** clock, `null` when the token has no `exp`. */
  expiresAt: number | null;
  /** Tabs attached to the host. */
  tabs: number;
}

/** Who a tab is, sent once in `attach`. */
export interface TabRegistration {
  /** `crypto.randomUUID()` of the tab's client. */
  tabId: string;
  /** Name of a Web Lock the tab holds until it dies; the host requests it to learn of the death. */
  lockName: string;
  /** {@link HOST_API_VERSION} of the page code; the host serves a range (see `checkVersion`). */
  protocol: number;
  /** Build id of the page code. */
  buildId: string;
  /** `document.visibilityState === 'visible'`. */
  visible: boolean;
}

/** What the host answers to `attach`. */
export interface HostHello {
  /** {@link HOST_API_VERSION} of the host. */
  protocol: number;
  buildId: string;
  /** `'shared-worker'` or `'leader'`. */
  kind: HostKind;
  status: ConnectionStatus;
  session: SessionInfo | undefined;
  /**
   * A Web Lock the host holds for its life (absent before it is held, or without Web Locks): a
   * tab waiting for it learns at once that the host's worker ended, instead of after missed pings.
   */
  aliveLock?: string;
}

/** Where the host runs. */
export type HostKind = 'shared-worker' | 'leader';

/** Events the host pushes to every attached tab. */
export type HostEvent =
  | { type: 'status'; status: ConnectionStatus }
  | { type: 'session-error'; error: SessionErrorType; message: string }
  /** The session started, changed (token, tabs) or ended (`session` undefined). */
  | { type: 'session'; session: SessionInfo | undefined }
  /** A newer build of the app runs a host beside this one: reload to use it. */
  | { type: 'update-available'; buildId: string }
  /** Every tab should reload now (a new service worker took control). */
  | { type: 'reload' }
  /**
   * The session's current token (leader hosts only): when the leader tab closes, the next leader
   * resumes the session with the freshest token a tab knows.
   */
  | { type: 'token'; token: string }
  /**
   * Another host took the session over from this one (it was frozen and a new leader stole the
   * socket): this host will not serve the session again; tabs attach to the current host.
   */
  | { type: 'superseded' }
  /** A line of the host's log (connects, closes with code and reason, refreshes, failovers, handovers). */
  | { type: 'log'; line: string; at: number };

/** Arguments of `startSession` as the host sees them. */
export interface StartSessionRequest {
  token: string;
  autoConnect: boolean;
  /** Normalised ws(s) URL of the server. */
  serverUrl: string;
  schemaVersion?: number;
  /** Present when this call passed a `refreshHandler`. */
  refresh?: RefreshRegistration;
}

/** A tab's refresh handler, as registered with the host. */
export interface RefreshRegistration {
  /** Identifies this registration so that the function `startSession` returned can stop it. */
  refreshId: string;
  /** Refresh every `interval` ms instead of 1 s before `exp`. */
  interval?: number;
}

/** One change of a topic, as a tab's `onChange` receives it. */
export interface TopicChange {
  topic: string;
  /** Per-topic sequence number (1, 2, …), delivered in order, without gaps or duplicates. */
  seq: number;
  data: JsonValue;
  /** Epoch ms (server clock) when the server stored the change. */
  publishedAt: number;
  /** The publisher's client id, when a client published it. */
  clientId?: string;
}

/** A tab's subscription, as registered with the host. */
export interface SubscriptionRequest {
  /** `crypto.randomUUID()` chosen by the tab. */
  subId: string;
  topic: string;
  /** Deliver changes after this seq; default: from the start of what is retained. */
  since?: number;
}

/** Defaults and bounds of a history request (`client.history`). */
export const HISTORY_DEFAULT_LIMIT = 50;
/** The most changes one history request returns (the server may cap lower). */
export const HISTORY_MAX_LIMIT = 500;

/** A tab's request for older changes of a topic. */
export interface HistoryRequest {
  topic: string;
  /** Only changes with a smaller seq; omitted: the newest. */
  before?: number;
  /** At most this many; default {@link HISTORY_DEFAULT_LIMIT}, at most {@link HISTORY_MAX_LIMIT}. */
  limit?: number;
}

/** One page of a topic's history, oldest first (newest last). */
export interface HistoryPage {
  changes: TopicChange[];
  /** Older changes exist before `changes[0]`. */
  hasMore: boolean;
}

/** A `publish` from a tab. The tab chooses `clientId`, so it can wait for the result first. */
export interface PublishRequest {
  clientId: string;
  topic: string;
  data: JsonValue;
}

/** The outcome of a publish, reported to the tab that published it. */
export type PublishOutcome =
  { ok: true; seq: number; duplicate: boolean } | { ok: false; code: SessionErrorCode; message: string };

/** Counters for tests, benchmarks and the demo's status panel. */
export interface HostStats {
  kind: HostKind;
  buildId: string;
  status: ConnectionStatus;
  tabs: number;
  /** WebSockets this host opened since it started. */
  socketsOpened: number;
  /** Token refreshes completed since the host started. */
  refreshes: number;
  /** Session id, if a session runs. */
  sessionId: string | undefined;
  /** Server clock minus local clock in ms, learned at connect. */
  clockOffsetMs: number;
  /** Topics the host is subscribed to at the server. */
  topics: number;
  /** Tab subscriptions across all tabs. */
  tabSubscriptions: number;
  /** Changes received from the server since the host started. */
  changesReceived: number;
  /** Publishes waiting in the outbox. */
  outbox: number;
}

/** A WebSocket close the host saw. */
export interface CloseRecord {
  /** Epoch ms (host clock). */
  at: number;
  code: number;
  reason: string;
}

/** One token refresh round, as the host ran it. */
export interface RefreshRecord {
  /** Epoch ms (host clock) when the round ended. */
  at: number;
  outcome: 'refreshed' | 'no-token' | 'failed';
  /** The tab whose handler answered (refreshed, no-token). */
  tabId?: string;
  durationMs: number;
  /** Handlers that threw, timed out or whose tab closed before one answered. */
  failovers: number;
}

/** One attached tab, as the host sees it. */
export interface InspectedTab {
  tabId: string;
  visible: boolean;
  attachedAt: number;
  buildId: string;
  /** Refresh handlers the tab registered. */
  refreshHandlers: number;
}

/** One topic the host holds. */
export interface InspectedTopic {
  topic: string;
  /** Highest seq received without a gap. */
  cursor: number;
  /** Changes cached in memory. */
  cached: number;
  /** Tab subscriptions to it. */
  subscribers: number;
  /** Whether the host is subscribed at the server (on the current socket). */
  live: boolean;
}

/** One publish waiting in the outbox. */
export interface InspectedPublish {
  clientId: string;
  topic: string;
  /** Epoch ms (host clock) when it was published. */
  createdAt: number;
  /** Sent on the current socket and not acknowledged yet. */
  inFlight: boolean;
}

/**
 * Everything the host can tell about itself, for devtools panels, status pages and tests: the
 * counters of {@link HostStats} plus the session, its phase, the tabs, the last closes, the refresh
 * history, topics with cursors, the outbox and the recent log lines. Never contains a token.
 */
export interface HostInspection extends HostStats {
  session: SessionInfo | undefined;
  /** The session's phase: `idle`, `refused`, `paused`, `live`, `suspended`, `awaiting-token`, `failed`. */
  phase: string;
  /** The session error that stopped it, in phase `failed`. */
  error: SessionErrorType | undefined;
  /** Local epoch ms of the next scheduled refresh, if any. */
  nextRefreshAt: number | undefined;
  tabList: InspectedTab[];
  closes: CloseRecord[];
  refreshHistory: RefreshRecord[];
  topicList: InspectedTopic[];
  outboxEntries: InspectedPublish[];
  log: { at: number; line: string }[];
}

/** Called by the host on a tab through comlink, when it needs an answer (with a deadline). */
export interface TabCallbacks {
  /**
   * Runs the tab's refresh handler for `refreshId` and returns the new token, or `undefined` for
   * "no new token". Throws when the handler throws.
   */
  refreshToken(refreshId: string): Promise<string | undefined>;
}

/** The host's side of a tab's events port (a `MessagePort`; typed structurally so Node can type-check it). */
export interface EventsPort {
  postMessage(message: TabMessage): void;
  close(): void;
}

/**
 * One-way messages from the host to one tab, posted on the tab's events port (a MessagePort the
 * tab hands over in `attach`): no reply, no timer, one message per tab per delivery — the hot path
 * of change fan-out.
 */
export type TabMessage =
  | { type: 'event'; event: HostEvent }
  /** Changes of subscription `subId`, in order. */
  | { type: 'changes'; subId: string; changes: TopicChange[] }
  /** Subscription `subId` was refused or failed; it is removed. */
  | { type: 'subscription-error'; subId: string; code: SessionErrorCode; message: string }
  /**
   * The server no longer retains the changes after `after` and before `first` (retention): the
   * subscription goes on with `first` (code `HISTORY_TRIMMED`; never a silent gap).
   */
  | { type: 'trimmed'; subId: string; after: number; first: number }
  /** Result of a publish this tab made. */
  | { type: 'publish-outcome'; clientId: string; outcome: PublishOutcome };

/** Exposed by the host to every tab. `tabId` is the caller's {@link TabRegistration.tabId}. */
export interface HostApi {
  /** `events` is a MessagePort (transferred) on which the host posts {@link TabMessage}s. */
  attach(tab: TabRegistration, callbacks: TabCallbacks, events: EventsPort): Promise<HostHello>;
  detach(tabId: string): Promise<void>;
  setVisibility(tabId: string, visible: boolean): Promise<void>;
  startSession(tabId: string, request: StartSessionRequest): Promise<SessionInfo>;
  stopRefresh(tabId: string, refreshId: string): Promise<void>;
  updateSessionToken(tabId: string, token: string): Promise<SessionInfo>;
  endSession(tabId: string): Promise<void>;
  clear(tabId: string): Promise<void>;
  connect(tabId: string): Promise<void>;
  disconnect(tabId: string): Promise<void>;
  getSession(): Promise<SessionInfo | undefined>;
  subscribe(tabId: string, request: SubscriptionRequest): Promise<void>;
  unsubscribe(tabId: string, subId: string): Promise<void>;
  /** Older changes of a topic: from the host's cache when it holds the range, else from the server. */
  history(tabId: string, request: HistoryRequest): Promise<HistoryPage>;
  /** Stores the message in the outbox (IndexedDB) and resolves; the outcome arrives as a `publish-outcome` {@link TabMessage}. */
  publish(tabId: string, request: PublishRequest): Promise<void>;
  /** Everything the host can tell about itself (see {@link HostInspection}); no tokens. */
  inspect(): Promise<HostInspection>;
  /**
   * Answers at once with the host's `Date.now()`: liveness and round-trip measurement (synchronous
   * in the host). With `tabId`, answers `-1` when the host does not know that tab (it dropped it
   * after missed deadlines while the tab was frozen): the tab attaches again.
   */
  ping(tabId?: string): number;
  /** Tells every tab to reload (used by `applyUpdate()` once a new service worker controls the page). */
  reloadAllTabs(): Promise<void>;
}
