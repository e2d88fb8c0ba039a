import type { BrowserContext } from '@playwright/test';
import { attachToTarget, cdpSessionOf, leaderWorker, sharedWorkerTargets, SHARED_WORKER_NAME } from './host-targets.js';
import { TestingKitError } from './testing-kit-error.js';

/** Options of {@link hostEvaluate} and {@link killHost}. */
export interface HostToolOptions {
  /** `name` of your SharedWorker when you pass your own `workerUrl` with another name. Default `'shared-session'`. */
  workerName?: string;
}

/** What Runtime.evaluate answers. */
interface EvaluateAnswer {
  result: { value?: unknown; description?: string };
  exceptionDetails?: { text: string; exception?: { description?: string } };
}

/**
 * Runs `fn(arg)` in the session host of `context` — the SharedWorker, or the leader tab's worker
 * where there is none — and resolves with its (awaited, JSON-serialisable) result. Like
 * `page.evaluate`, `fn` travels as source: it must not close over anything.
 *
 * Engines: the SharedWorker host in Chromium (a CDP session attached to the `shared_worker`
 * target, `Runtime.evaluate`; Playwright does not see SharedWorkers, microsoft/playwright#17197);
 * the leader host in every engine Playwright drives. Rejects with a `TestingKitError`:
 * `UNSUPPORTED_BROWSER` for a SharedWorker host outside Chromium, `NO_HOST` when none runs,
 * `HOST_EVALUATE_FAILED` when `fn` throws. Import from `shared-session/testing`.
 *
 * @param context - the Playwright context whose tabs share the host
 * @param fn - runs in the worker's global scope
 * @param arg - passed to `fn` (JSON)
 * @param options - the SharedWorker's name, if not the package's
 * @example
 * ```ts
 * const userAgent = await hostEvaluate(context, () => navigator.userAgent);
 * const origin = await hostEvaluate(context, () => self.location.origin);
 * ```
 */
export async function hostEvaluate<Result, Arg = undefined>(
  context: BrowserContext,
  fn: (arg: Arg) => Result | Promise<Result>,
  arg?: Arg,
  options: HostToolOptions = {},
): Promise<Result> {
  if (typeof fn !== 'function') throw new TypeError('"fn" must be a function');
  const leader = await leaderWorker(context);
  if (leader) {
    try {
      return await leader.evaluate(fn as (a: unknown) => Result, arg as unknown);
    } catch (error) {
      throw new TestingKitError(
        'HOST_EVALUATE_FAILED',
        `hostEvaluate: the function threw in the leader host: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
  }
  const cdp = await cdpSessionOf(context, 'hostEvaluate');
  try {
    const [target] = await sharedWorkerTargets(cdp, options.workerName ?? SHARED_WORKER_NAME);
    if (!target)
      throw new TestingKitError('NO_HOST', 'hostEvaluate: no SharedWorker or leader host runs in the context');
    const session = await attachToTarget(cdp, target.targetId);
    try {
      const answer = await session.send<EvaluateAnswer>('Runtime.evaluate', {
        expression: `(${fn.toString()})(${arg === undefined ? '' : JSON.stringify(arg)})`,
        awaitPromise: true,
        returnByValue: true,
      });
      if (answer.exceptionDetails) {
        const detail = answer.exceptionDetails.exception?.description ?? answer.exceptionDetails.text;
        throw new TestingKitError(
          'HOST_EVALUATE_FAILED',
          `hostEvaluate: the function threw in the SharedWorker: ${detail}`,
        );
      }
      return answer.result.value as Result;
    } finally {
      await session.detach();
    }
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}
