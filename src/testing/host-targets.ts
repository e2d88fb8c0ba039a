import type { BrowserContext, CDPSession, Page, Worker } from '@playwright/test';
import { TestingKitError } from './testing-kit-error.js';

/** `name` of the package's SharedWorker (`new SharedWorker(url, { name })`). */
export const SHARED_WORKER_NAME = 'shared-session';
/** `name` of the leader tab's dedicated worker (the host where there is no SharedWorker). */
export const LEADER_WORKER_NAME = 'shared-session-leader';

/** A target as `Target.getTargets` lists it. */
interface TargetInfo {
  targetId: string;
  type: string;
  title: string;
  url: string;
  browserContextId?: string;
}

/** A CDP session on one of the context's pages, which also reaches the browser's other targets. */
export async function cdpSessionOf(context: BrowserContext, tool: string): Promise<CDPSession> {
  const page = firstPage(context, tool);
  try {
    return await context.newCDPSession(page);
  } catch (error) {
    throw new TestingKitError(
      'UNSUPPORTED_BROWSER',
      `${tool} needs the Chrome DevTools Protocol, which only Chromium offers: ${String(error)}`,
      { cause: error },
    );
  }
}

/** The first open page of `context`; a host runs only while a tab does. */
export function firstPage(context: BrowserContext, tool: string): Page {
  const page = context.pages()[0];
  if (!page) throw new TestingKitError('NO_HOST', `${tool}: the context has no open page, so no session host runs`);
  return page;
}

/**
 * The `shared_worker` targets of `context` whose name is `name`, through `cdp` (a session on one
 * of the context's pages): Playwright itself does not see SharedWorkers (microsoft/playwright#17197).
 */
export async function sharedWorkerTargets(cdp: CDPSession, name: string): Promise<TargetInfo[]> {
  const { targetInfo: own } = (await cdp.send('Target.getTargetInfo')) as { targetInfo: TargetInfo };
  const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: TargetInfo[] };
  // Chromium titles a SharedWorker target with the worker's name.
  return targetInfos.filter(
    (t) => t.type === 'shared_worker' && t.browserContextId === own.browserContextId && t.title === name,
  );
}

/**
 * The leader tab's dedicated worker in `context`, if a leader host runs: Playwright sees dedicated
 * workers in every engine; the host's is the one whose global `name` is {@link LEADER_WORKER_NAME}.
 */
export async function leaderWorker(context: BrowserContext): Promise<Worker | undefined> {
  for (const page of context.pages()) {
    for (const worker of page.workers()) {
      // Typed for the worker's global scope, which this package's Node build does not declare.
      const name = await worker.evaluate(() => (globalThis as { name?: unknown }).name).catch(() => undefined);
      if (name === LEADER_WORKER_NAME) return worker;
    }
  }
  return undefined;
}

/** Runs CDP commands in a target that has no session of its own (a SharedWorker), over the browser's. */
export interface TargetSession {
  send<T>(method: string, params?: Record<string, unknown>): Promise<T>;
  /**
   * Resolves with the params of the target's next `method` event (call it before the command that
   * causes the event); rejects after `timeoutMs`, or when detached.
   */
  nextEvent<T>(method: string, timeoutMs: number): Promise<T>;
  detach(): Promise<void>;
}

/**
 * Attaches to `targetId` without flattening (Playwright's `CDPSession` cannot address a child
 * session) and exchanges raw messages with it through `Target.sendMessageToTarget`.
 */
export async function attachToTarget(cdp: CDPSession, targetId: string): Promise<TargetSession> {
  const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId, flatten: false })) as {
    sessionId: string;
  };
  let nextId = 1;
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  const events = new Set<{ method: string; resolve(params: unknown): void; reject(error: Error): void }>();
  const onMessage = (event: { sessionId: string; message: string }) => {
    if (event.sessionId !== sessionId) return;
    const message = JSON.parse(event.message) as {
      id?: number;
      method?: string;
      params?: unknown;
      result?: unknown;
      error?: { message: string };
    };
    if (message.method !== undefined) {
      for (const waiter of events) if (waiter.method === message.method) waiter.resolve(message.params);
      return;
    }
    const waiter = message.id === undefined ? undefined : pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id!);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message.result);
  };
  cdp.on('Target.receivedMessageFromTarget', onMessage);
  return {
    async send<T>(method: string, params: Record<string, unknown> = {}) {
      const id = nextId++;
      const answer = new Promise<T>((resolve, reject) =>
        pending.set(id, { resolve: (value) => resolve(value as T), reject }),
      );
      await cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
      return answer;
    },
    nextEvent<T>(method: string, timeoutMs: number) {
      return new Promise<T>((resolve, reject) => {
        const waiter = {
          method,
          resolve: (params: unknown) => {
            clearTimeout(timer);
            events.delete(waiter);
            resolve(params as T);
          },
          reject: (error: Error) => {
            clearTimeout(timer);
            events.delete(waiter);
            reject(error);
          },
        };
        const timer = setTimeout(() => waiter.reject(new Error(`no ${method} within ${timeoutMs} ms`)), timeoutMs);
        events.add(waiter);
      });
    },
    async detach() {
      cdp.off('Target.receivedMessageFromTarget', onMessage);
      for (const waiter of pending.values()) waiter.reject(new Error('detached from the target'));
      pending.clear();
      for (const waiter of [...events]) waiter.reject(new Error('detached from the target'));
      await cdp.send('Target.detachFromTarget', { sessionId }).catch(() => undefined);
    },
  };
}
