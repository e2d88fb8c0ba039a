/** Why a testing-kit tool could not do what it was asked. */
export type TestingKitErrorCode =
  /** The tool needs something this browser does not offer (CDP: Chromium only). */
  | 'UNSUPPORTED_BROWSER'
  /** No session host runs in the context: no tab, no SharedWorker and no leader worker. */
  | 'NO_HOST'
  /** The function given to `hostEvaluate` threw or rejected in the host. */
  | 'HOST_EVALUATE_FAILED';

/**
 * Thrown by the testing kit's tools (`killHost`, `hostEvaluate`, `freezeTab`, …) with a `code`.
 * Import from `shared-session/testing`.
 *
 * @example
 * ```ts
 * import { TestingKitError, killHost } from 'shared-session/testing';
 * try {
 *   await killHost(context);
 * } catch (err) {
 *   if (err instanceof TestingKitError && err.code === 'UNSUPPORTED_BROWSER') test.skip(true, err.message);
 *   else throw err;
 * }
 * ```
 */
export class TestingKitError extends Error {
  // A literal: a minifier would mangle `constructor.name`.
  override name = 'TestingKitError';
  /** Machine-readable reason. */
  readonly code: TestingKitErrorCode;

  /**
   * @param code - machine-readable reason
   * @param message - lowercase, factual, actionable
   * @param options - `{ cause }`
   */
  constructor(code: TestingKitErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
