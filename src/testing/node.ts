/**
 * `shared-session/testing/node`: the parts of the testing kit that need no Playwright — the token
 * minter, the cuttable TCP proxy and the ordered-changes assertion — for Vitest, Node's test runner
 * or scripts. `shared-session/testing` exports them too, beside the Playwright fixtures and tools.
 *
 * @packageDocumentation
 */
export { createTokenMinter, type MintTokenOptions } from './mint-token.js';
export { createTcpProxy, type TcpProxy } from './tcp-proxy.js';
export { assertSameOrderedChanges, type SeenChanges } from './ordered-changes.js';
