import { type InjectionKey, inject, provide } from 'vue';
import type { BindableClient } from '../bindings/index.js';
import { SessionError } from '../errors/index.js';
import type { SessionClient } from '../page/index.js';

/**
 * The injection key of the session client: `app.provide(SESSION_CLIENT_KEY, client)` provides it
 * to the whole app. Import from `shared-session/vue`.
 */
export const SESSION_CLIENT_KEY: InjectionKey<BindableClient> = Symbol('shared-session client');

/**
 * Provides `client` to the composables of the calling component's descendants (call in `setup`).
 *
 * @example
 * ```ts
 * const client = new SessionClient({ serverUrl: 'https://api.example.com' });
 * export default { setup() { provideSessionClient(client); } };
 * ```
 */
export function provideSessionClient(client: BindableClient): void {
  if (typeof client !== 'object' || client === null) {
    throw new TypeError('provideSessionClient needs a "client" (a SessionClient)');
  }
  provide(SESSION_CLIENT_KEY, client);
}

/**
 * The provided client, for `publish`, `startSession`, … `C` defaults to `SessionClient`.
 *
 * @throws {@link SessionError} `INVALID_ARGUMENT` when no client was provided
 * @example
 * ```ts
 * const client = useSessionClient();
 * const send = (text: string) => client.publish('chat', { text });
 * ```
 */
export function useSessionClient<C = SessionClient>(): C {
  return injectClient() as unknown as C;
}

/** The provided client as the composables use it. */
export function injectClient(): BindableClient {
  const client = inject(SESSION_CLIENT_KEY, null);
  if (!client) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'no session client: call provideSessionClient(client) in an ancestor (or app.provide(SESSION_CLIENT_KEY, client))',
    );
  }
  return client;
}
