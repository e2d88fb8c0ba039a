import { createContext, createElement, type ReactNode, useContext } from 'react';
import type { BindableClient } from '../bindings/index.js';
import { SessionError } from '../errors/index.js';
import type { SessionClient } from '../page/index.js';

const SessionClientContext = createContext<BindableClient | null>(null);
SessionClientContext.displayName = 'SessionClient';

/** Props of {@link SessionProvider}. */
export interface SessionProviderProps {
  /** The tab's `SessionClient` (any object with its events, `subscribe` and `history`). */
  client: BindableClient;
  children?: ReactNode;
}

/**
 * Makes `client` available to the hooks of `shared-session/react` below it. Import from
 * `shared-session/react`.
 *
 * @example
 * ```tsx
 * const client = new SessionClient({ serverUrl: 'https://api.example.com' });
 * createRoot(el).render(<SessionProvider client={client}><App /></SessionProvider>);
 * ```
 */
export function SessionProvider({ client, children }: SessionProviderProps): ReactNode {
  if (typeof client !== 'object' || client === null) {
    throw new TypeError('<SessionProvider> needs a "client" (a SessionClient)');
  }
  return createElement(SessionClientContext.Provider, { value: client }, children);
}

/**
 * The client of the nearest {@link SessionProvider}, for `publish`, `startSession`, … in event
 * handlers. `C` defaults to `SessionClient`; name your own type when the provider got another
 * client (e.g. a test double).
 *
 * @throws {@link SessionError} `INVALID_ARGUMENT` when no `SessionProvider` is above the component
 * @example
 * ```tsx
 * const client = useSessionClient();
 * return <button onClick={() => client.publish('chat', { text })}>send</button>;
 * ```
 */
export function useSessionClient<C = SessionClient>(): C {
  return useBindableClient() as unknown as C;
}

/** The provider's client as the hooks use it. */
export function useBindableClient(): BindableClient {
  const client = useContext(SessionClientContext);
  if (!client) {
    throw new SessionError(
      'INVALID_ARGUMENT',
      'no session client: render this component inside <SessionProvider client={client}>',
    );
  }
  return client;
}
