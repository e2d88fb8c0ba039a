/**
 * `shared-session/testing`: helpers for your own Playwright suites of a multi-tab app.
 *
 * @packageDocumentation
 */
export { test, expect, type SessionServerFixture, type SessionFixtureOptions } from './fixtures.js';
export { createTokenMinter, type MintTokenOptions } from './mint-token.js';
export { openTabs } from './open-tabs.js';
export { createTcpProxy, type TcpProxy } from './tcp-proxy.js';
export { assertSameOrderedChanges, type SeenChanges } from './ordered-changes.js';
