import { getContext, hasContext, setContext } from 'svelte';
import type { BindableClient } from '../bindings/index.js';
import { SessionError } from '../errors/index.js';
import type { SessionClient } from '../page/index.js';

const CONTEXT_KEY = Symbol('shared-session client');

/**
 * Makes `client` available to the `use…` functions of the calling component's descendants (call
 * during component initialisation). Import from `shared-session/svelte`.
 *
 * @example
 * ```svelte
 * <script>
 *   import { setSessionClient } from 'shared-session/svelte';
 *   setSessionClient(new SessionClient({ serverUrl: 'https://api.example.com' }));
 * </script>
 * ```
 */
export function setSessionClient(client: BindableClient): void {
  if (typeof client !== 'object' || client === null) {
    throw new TypeError('setSessionClient needs a "client" (a SessionClient)');
  }
  setContext(CONTEXT_KEY, client);
}

/**
 * The client set by an ancestor with {@link setSessionClient} (call during component
 * initialisation). `C` defaults to `SessionClient`.
 *
 * @throws {@link SessionError} `INVALID_ARGUMENT` when no ancestor set one
 */
export function getSessionClient<C = SessionClient>(): C {
  if (!hasContext(CONTEXT_KEY)) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'no session client: call setSessionClient(client) in an ancestor component, or pass `client`',
    );
  }
  return getContext<C>(CONTEXT_KEY);
}
