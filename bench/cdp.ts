// CDP access to targets Playwright does not expose (the SharedWorker host) and to pages, through
// one browser-level session: attach to a target, call its domains, read its CPU profile.
import type { Browser, CDPSession } from '@playwright/test';

/** A target as `Target.getTargets` lists it. */
export interface TargetInfo {
  targetId: string;
  type: string;
  url: string;
  title: string;
}

/** One node of a V8 CPU profile (`Profiler.stop`). */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

/** A V8 CPU profile: the call tree, and which node each sample hit with the time since the last one. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** A function's share of a profile. */
export interface HotFunction {
  /** `name file:line`, or a V8 pseudo-frame such as `(garbage collector)`. */
  frame: string;
  /** Self time, ms. */
  selfMs: number;
  /** Share of the profile's non-idle time. */
  share: number;
}

/**
 * A session on one target (a page, a shared worker) over the browser's CDP connection:
 * `Target.sendMessageToTarget`, since Playwright's `CDPSession` cannot address attached sessions.
 */
export class TargetSession {
  readonly #browser: CDPSession;
  readonly #sessionId: string;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  readonly #onMessage: (event: { sessionId?: string; message: string }) => void;
  #nextId = 0;

  private constructor(browser: CDPSession, sessionId: string) {
    this.#browser = browser;
    this.#sessionId = sessionId;
    this.#onMessage = (event) => {
      if (event.sessionId !== undefined && event.sessionId !== sessionId) return;
      const message = JSON.parse(event.message) as { id?: number; result?: unknown; error?: { message: string } };
      const pending = message.id === undefined ? undefined : this.#pending.get(message.id);
      if (!pending || message.id === undefined) return;
      this.#pending.delete(message.id);
      if (message.error) pending.reject(new Error(message.error.message));
      else pending.resolve(message.result);
    };
    browser.on('Target.receivedMessageFromTarget', this.#onMessage);
  }

  /**
   * Attaches to the first target `matches` accepts.
   *
   * @throws when no target matches
   */
  static async attach(browser: Browser, matches: (target: TargetInfo) => boolean): Promise<TargetSession> {
    const cdp = await browser.newBrowserCDPSession();
    const { targetInfos } = (await cdp.send('Target.getTargets')) as { targetInfos: TargetInfo[] };
    const target = targetInfos.find(matches);
    if (!target) {
      await cdp.detach();
      throw new Error(`no such target among ${targetInfos.map((t) => `${t.type} ${t.url}`).join(', ')}`);
    }
    const { sessionId } = (await cdp.send('Target.attachToTarget', { targetId: target.targetId, flatten: false })) as {
      sessionId: string;
    };
    return new TargetSession(cdp, sessionId);
  }

  /** Calls a CDP method on the target. */
  send<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.#nextId;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      void this.#browser.send('Target.sendMessageToTarget', {
        sessionId: this.#sessionId,
        message: JSON.stringify({ id, method, params }),
      });
    });
  }

  /** Evaluates `expression` in the target and returns its (JSON) value. */
  async evaluate<T>(expression: string): Promise<T> {
    const { result } = await this.send<{ result: { value: T } }>('Runtime.evaluate', {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    return result.value;
  }

  /** Starts the V8 sampling profiler, sampling every `intervalUs` microseconds. */
  async startProfile(intervalUs = 50): Promise<void> {
    await this.send('Profiler.enable');
    await this.send('Profiler.setSamplingInterval', { interval: intervalUs });
    await this.send('Profiler.start');
  }

  /** Stops the profiler and returns the profile. */
  async stopProfile(): Promise<CpuProfile> {
    const { profile } = await this.send<{ profile: CpuProfile }>('Profiler.stop');
    await this.send('Profiler.disable');
    return profile;
  }

  async detach(): Promise<void> {
    this.#browser.off('Target.receivedMessageFromTarget', this.#onMessage);
    await this.#browser.send('Target.detachFromTarget', { sessionId: this.#sessionId }).catch(() => undefined);
    await this.#browser.detach().catch(() => undefined);
  }
}

/** The functions with the most self time, with the profile's busy (non-idle) time in ms. */
export function hotFunctions(profile: CpuProfile, top = 15): { busyMs: number; functions: HotFunction[] } {
  const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((nodeId, i) => {
    const frame = byNode.get(nodeId)?.callFrame;
    const us = profile.timeDeltas[i + 1] ?? 0; // a sample's time runs until the next one
    if (!frame || frame.functionName === '(idle)') return;
    const file = frame.url.split('/').at(-1) ?? '';
    const key = file ? `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}` : frame.functionName;
    self.set(key, (self.get(key) ?? 0) + us);
    busy += us;
  });
  const functions = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({ frame, selfMs: us / 1000, share: busy > 0 ? us / busy : 0 }));
  return { busyMs: busy / 1000, functions };
}
