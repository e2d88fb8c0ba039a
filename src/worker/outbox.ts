import { SessionError } from '../errors/index.js';
import type { SessionErrorCode } from '../protocol/error-codes.js';
import type { InspectedPublish, PublishOutcome, PublishRequest } from '../protocol/host-api.js';
import type { ServerMessage } from '../protocol/messages.js';
import { validateTopicName } from '../protocol/topic-name.js';
import { measureJson } from '../shared/json-size.js';
import type { OutboxEntry, OutboxStore } from './outbox-store.js';
import type { RequestBody } from './server-connection.js';

/** Largest publish payload the host accepts, in bytes of JSON (the server may set a lower limit). */
export const MAX_PUBLISH_BYTES = 256 * 1024;
/** Publishes sent before the first acknowledgement arrives; the server handles them in order. */
export const OUTBOX_WINDOW = 64;
/** Wait before retrying after the server said RATE_LIMITED. */
export const OUTBOX_RATE_LIMIT_RETRY_MS = 1_000;

/** Codes after which a publish is dropped from the outbox and its promise rejected. */
const PERMANENT: ReadonlySet<SessionErrorCode> = new Set<SessionErrorCode>([
  'FORBIDDEN',
  'PAYLOAD_TOO_LARGE',
  'BAD_MESSAGE',
  'INVALID_ARGUMENT',
]);

/** The slice of the server connection the outbox needs. */
export interface OutboxLink {
  request(body: RequestBody): Promise<ServerMessage>;
}

/**
 * Exactly-once publishing. Every publish is written to IndexedDB with its client id before it is
 * sent, sent (again) whenever a socket is authenticated until the server acknowledges it, and
 * removed only then; the server deduplicates by client id, so retries after reconnects, reloads
 * or host restarts store it once.
 */
export class Outbox {
  readonly #store: Promise<OutboxStore>;
  readonly #report: (tabId: string, clientId: string, outcome: PublishOutcome) => void;
  #userId: string | undefined;
  #queue: OutboxEntry[] = [];
  #inFlight = new Set<string>();
  #link: OutboxLink | undefined;
  #loaded: Promise<void> = Promise.resolve();
  #lastCreatedAt = 0;

  /**
   * @param store - persistence
   * @param report - tells the publishing tab the outcome
   */
  constructor(store: Promise<OutboxStore>, report: (tabId: string, clientId: string, outcome: PublishOutcome) => void) {
    this.#store = store;
    this.#report = report;
  }

  /** Publishes waiting for an acknowledgement. */
  get size(): number {
    return this.#queue.length;
  }

  /** The waiting publishes as `inspect()` reports them (no payloads). */
  inspect(): InspectedPublish[] {
    return this.#queue.map((entry) => ({
      clientId: entry.clientId,
      topic: entry.topic,
      createdAt: entry.createdAt,
      inFlight: this.#inFlight.has(entry.clientId),
    }));
  }

  /** Switches to another user's outbox (loaded from IndexedDB); another user's entries are never sent. */
  setUser(userId: string | undefined): void {
    if (userId === this.#userId) return;
    this.#userId = userId;
    this.#queue = [];
    this.#inFlight.clear();
    this.#loaded = userId
      ? this.#store
          .then((store) => store.list(userId))
          .then((entries) => {
            if (this.#userId !== userId) return;
            const known = new Set(this.#queue.map((e) => e.clientId));
            this.#queue = [...entries.filter((e) => !known.has(e.clientId)), ...this.#queue];
            this.#pump();
          })
      : Promise.resolve();
  }

  /** Validates and stores a publish; resolves once it is durable in the outbox. */
  async enqueue(tabId: string, request: PublishRequest): Promise<void> {
    const userId = this.#userId;
    if (!userId) throw new SessionError('NO_ACTIVE_SESSION', 'no session is running: call startSession(token) first');
    validatePublish(request);
    // Strictly increasing, so that publishes made within one millisecond keep their order in the
    // store's (userId, createdAt) index across host restarts.
    this.#lastCreatedAt = Math.max(Date.now(), this.#lastCreatedAt + 0.001);
    const entry: OutboxEntry = { ...request, userId, tabId, createdAt: this.#lastCreatedAt };
    await this.#loaded;
    // A tab re-sends its in-flight publishes to a new leader host, which may have them already.
    if (this.#queue.some((queued) => queued.clientId === entry.clientId)) return;
    await (await this.#store).add(entry);
    if (this.#userId !== userId) return;
    this.#queue.push(entry);
    this.#pump();
  }

  /** A socket was authenticated: send everything not yet acknowledged, oldest first. */
  onConnected(link: OutboxLink): void {
    this.#link = link;
    this.#inFlight.clear();
    void this.#loaded.then(() => this.#pump());
  }

  /** The socket closed: what was in flight is sent again on the next connect. */
  onDisconnected(): void {
    this.#link = undefined;
    this.#inFlight.clear();
  }

  #pump(): void {
    const link = this.#link;
    if (!link) return;
    for (const entry of this.#queue) {
      if (this.#inFlight.size >= OUTBOX_WINDOW) return;
      if (this.#inFlight.has(entry.clientId)) continue;
      this.#inFlight.add(entry.clientId);
      link.request({ type: 'publish', topic: entry.topic, clientId: entry.clientId, data: entry.data }).then(
        (answer) => {
          if (answer.type === 'published')
            this.#settle(entry, { ok: true, seq: answer.seq, duplicate: answer.duplicate });
        },
        (error: SessionError) => this.#onError(link, entry, error),
      );
    }
  }

  #onError(link: OutboxLink, entry: OutboxEntry, error: SessionError): void {
    if (PERMANENT.has(error.code)) {
      this.#settle(entry, { ok: false, code: error.code, message: error.message });
      return;
    }
    if (this.#link !== link) return; // disconnected: resent on the next welcome
    this.#inFlight.delete(entry.clientId);
    setTimeout(() => this.#pump(), OUTBOX_RATE_LIMIT_RETRY_MS);
  }

  #settle(entry: OutboxEntry, outcome: PublishOutcome): void {
    this.#inFlight.delete(entry.clientId);
    this.#queue = this.#queue.filter((e) => e.clientId !== entry.clientId);
    void this.#store.then((store) => store.remove(entry.clientId));
    this.#report(entry.tabId, entry.clientId, outcome);
    this.#pump();
  }
}

function validatePublish({ topic, data }: PublishRequest): void {
  const problem = validateTopicName(topic);
  if (problem !== undefined) {
    throw new SessionError('INVALID_ARGUMENT', problem);
  }
  const measured = measureJson(data);
  if (!measured.ok) throw new SessionError('INVALID_ARGUMENT', measured.reason, { cause: measured.cause });
  if (measured.bytes > MAX_PUBLISH_BYTES) {
    throw new SessionError(
      'PAYLOAD_TOO_LARGE',
      `"data" is ${measured.bytes} bytes of JSON; the limit is ${MAX_PUBLISH_BYTES}`,
    );
  }
}
