/**
 * What the e2e test app puts on `window`, typed once for the app (main.ts) and the specs, which drive
 * it through `page.evaluate`. The client's shape is spec §3 written out structurally, so this file
 * type-checks before `dist/` exists; main.ts assigning the real `SessionClient` checks that they agree.
 */
import type * as Errors from '../../../src/errors/index.ts';
import type {
  ConnectionStatus,
  HostInspection,
  HostStats,
  SessionInfo,
  TopicChange,
} from '../../../src/protocol/host-api.ts';
import type { SessionErrorType } from '../../../src/protocol/error-codes.ts';
import type { JsonValue } from '../../../src/protocol/messages.ts';

export type { ConnectionStatus, HostInspection, HostStats, JsonValue, SessionErrorType, SessionInfo, TopicChange };

export interface RefreshOptions {
  refreshHandler: () => Promise<string | undefined>;
  interval?: number;
}

/** Options of `new SessionClient(…)` (spec §3). */
export interface ClientOptions {
  serverUrl: string;
  token?: string;
  autoConnect?: boolean;
  refreshOptions?: RefreshOptions;
  onSessionError?: (type: SessionErrorType) => void;
  schema?: { version: number };
  host?: 'auto' | 'shared-worker' | 'leader';
  workerUrl?: string | URL;
  debug?: boolean | ((line: string) => void);
}

/** The page API the suite uses (spec §3, plus the test-only stats call). */
export interface PageClient {
  startSession(token: string, autoConnect?: boolean, refreshOptions?: RefreshOptions): Promise<() => void>;
  updateSessionToken(token: string): Promise<unknown>;
  endSession(): Promise<unknown>;
  clear(): Promise<unknown>;
  connect(): Promise<unknown>;
  disconnect(): Promise<unknown>;
  readonly connectionStatus: ConnectionStatus;
  onConnectionStatusChange(cb: (status: ConnectionStatus) => void, runImmediately?: boolean): () => void;
  onSessionError(cb: (type: SessionErrorType) => void): () => void;
  onUpdateAvailable(cb: (buildId: string) => void): () => void;
  onHostUnavailable(cb: (error: Error & { code?: string }) => void): () => void;
  reloadAllTabs(): Promise<void>;
  readonly hostKind: 'shared-worker' | 'leader';
  getSession(): Promise<SessionInfo | undefined>;
  close(): void;
  subscribe(
    topic: string,
    onChange: (change: TopicChange) => void,
    options?: { since?: number; onError?: (error: Error) => void },
  ): () => void;
  publish(topic: string, data: JsonValue): Promise<{ seq: number }>;
  debugHostStats?(): Promise<HostStats>;
  /** Everything the host can tell about itself: session, closes, refresh history, topics, log. */
  inspect?(): Promise<HostInspection>;
}

/** How the page's refresh handler answers; tests may change `window.refreshPlan` at any time. */
export interface RefreshPlan {
  /** `mint`: a fresh token from the test (default); `undefined`: "no new token"; `throw`: the handler throws. */
  mode?: 'mint' | 'undefined' | 'throw';
  sub: string;
  roles?: string[];
  /** Seconds until `exp` of each minted token; `null` mints a token without `exp`. */
  expiresIn?: number | null;
  /** More claims for each minted token (e.g. a custom roles claim). */
  extra?: Record<string, unknown>;
  /** The handler waits this long before it mints (a slow token endpoint). */
  delayMs?: number;
}

/** What the page's refresh options ask for. */
export interface RefreshSetup extends RefreshPlan {
  /** Passed through as `refreshOptions.interval`. */
  interval?: number;
}

/** Serialisable `SessionClient` options; `refresh` becomes a page-side `refreshHandler`. */
export interface ClientSetup {
  serverUrl: string;
  token?: string;
  autoConnect?: boolean;
  schema?: { version: number };
  refresh?: RefreshSetup;
  host?: 'auto' | 'shared-worker' | 'leader';
  /** Passed through as `workerUrl` (resolved against the page's URL). */
  workerUrl?: string;
  /** Records the host's log lines (the client's `debug` option) into `window.events.hostLog`. */
  recordHostLog?: boolean;
}

/** An error as the page saw it. */
export interface ErrorInfo {
  name: string;
  code: string | undefined;
  message: string;
  /** Names of the classes of `shared-session/errors` the error is an `instanceof`. */
  instanceOf: string[];
}

export type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: ErrorInfo; ms: number };

/** Everything the page observed, with `t` = `Date.now()` and `p` = `performance.now()`. */
export interface PageEvents {
  statuses: { status: ConnectionStatus; t: number; p: number }[];
  /** From `client.onSessionError(cb)`. */
  sessionErrors: { type: SessionErrorType; t: number }[];
  /** From the `onSessionError` constructor option. */
  ctorSessionErrors: { type: SessionErrorType; t: number }[];
  refreshCalls: { t: number; token?: string; error?: string }[];
  /** From `client.onUpdateAvailable(cb)`. */
  updatesAvailable: { buildId: string; t: number }[];
  /** From `client.onHostUnavailable(cb)`. */
  hostUnavailable: { code: string | undefined; message: string; t: number; p: number }[];
  /** The host's log lines this tab received, when created with `recordHostLog` (`t`: the tab's clock). */
  hostLog: { line: string; t: number }[];
}

export interface StartResult {
  ok: boolean;
  error?: ErrorInfo;
  /** ms until `startSession` settled. */
  settledMs: number;
  /** ms from the call until it settled and the status was `OPEN`, when `waitForOpen` was asked and it got there. */
  openMs?: number;
}

/** What one labelled subscription of a tab received (`harness.subscribe`). */
export interface SubscriptionLog {
  topic: string;
  since: number | undefined;
  /** Every change `onChange` got, in arrival order, with the page's `Date.now()` at arrival. */
  changes: (TopicChange & { receivedAt: number })[];
  /** What `onError` got (at most one). */
  errors: (ErrorInfo & { receivedAt: number })[];
}

/** A `client.publish` the harness started without waiting for it (`harness.publish`). */
export interface PublishLog {
  topic: string;
  data: JsonValue;
  startedAt: number;
  /** Set once the promise settled. */
  outcome?: Outcome<{ seq: number }>;
}

export interface Harness {
  /** Creates `window.client` and records its events into `window.events`. */
  createClient(setup: ClientSetup): ConnectionStatus;
  /** `client.startSession(token, autoConnect, refreshOptions?)`; the stop function goes to `window.stops`. */
  startSession(
    token: string,
    options?: { autoConnect?: boolean; refresh?: RefreshSetup | false; waitForOpen?: boolean },
  ): Promise<StartResult>;
  /** Calls `client[method](...args)` and reports the outcome. */
  call<M extends 'updateSessionToken' | 'endSession' | 'clear' | 'connect' | 'disconnect' | 'getSession'>(
    method: M,
    ...args: Parameters<PageClient[M]>
  ): Promise<Outcome<Awaited<ReturnType<PageClient[M]>>>>;
  /** `client.subscribe(topic, …, { since, onError })`, recorded into `window.subscriptions[label]`. */
  subscribe(label: string, topic: string, options?: { since?: number }): void;
  /** Calls the unsubscribe function of `label`. */
  unsubscribe(label: string): void;
  /** Starts `client.publish(topic, data)` without awaiting it; the outcome goes to `window.publishes[id]`. Returns `id`. */
  publish(topic: string, data: JsonValue): string;
  describeError(error: unknown): ErrorInfo;
}

declare global {
  interface Window {
    SS: { SessionClient: new (options: ClientOptions) => PageClient; errors: typeof Errors };
    harness: Harness;
    client: PageClient;
    events: PageEvents;
    stops: (() => void)[];
    subscriptions: Record<string, SubscriptionLog>;
    publishes: Record<string, PublishLog>;
    refreshPlan: RefreshPlan | undefined;
    /** Exposed by the fixtures (`context.exposeFunction`): mints a token signed with the test server's secret. */
    mintFreshToken(plan: RefreshPlan): Promise<string>;
  }
}
