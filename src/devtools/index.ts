/**
 * `shared-session/devtools`: `<shared-session-devtools>`, a framework-free panel (custom element,
 * shadow DOM, no dependency) that shows what a tab's session host is doing, from
 * `client.inspect()`. Importing it in a browser defines the element; in Node it only exports
 * (nothing touches a browser global).
 *
 * @example
 * ```ts
 * import { defineDevtools } from 'shared-session/devtools';
 * defineDevtools();
 * document.querySelector('shared-session-devtools')!.client = client;
 * ```
 *
 * @packageDocumentation
 */
import { defineDevtools } from './element.js';

export { SharedSessionDevtools, defineDevtools, DEVTOOLS_TAG } from './element.js';
export {
  DEVTOOLS_REFRESH_MS,
  DEVTOOLS_INSPECT_TIMEOUT_MS,
  type DevtoolsClient,
  type DevtoolsSnapshot,
} from './inspector.js';
export { describeCloseCode } from './format.js';

// The one side effect of this entry, and only where custom elements exist.
if (typeof customElements !== 'undefined') defineDevtools();
