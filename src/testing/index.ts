/**
 * `shared-session/testing`: helpers for your own Playwright suites of a multi-tab app — the
 * fixtures, tools that reach the session host Playwright cannot see (`hostEvaluate`, `killHost`),
 * page-lifecycle and host-mode switches (`freezeTab`, `withoutSharedWorker`), and everything of
 * `shared-session/testing/node`.
 *
 * @packageDocumentation
 */
export * from './node.js';
export { test, expect, type SessionServerFixture, type SessionFixtureOptions } from './fixtures.js';
export { openTabs } from './open-tabs.js';
export { withoutSharedWorker } from './without-shared-worker.js';
export { killHost, type KilledHost } from './kill-host.js';
export { freezeTab, resumeTab } from './freeze-tab.js';
export { hostEvaluate, type HostToolOptions } from './host-evaluate.js';
export { TestingKitError, type TestingKitErrorCode } from './testing-kit-error.js';
