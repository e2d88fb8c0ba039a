/**
 * `shared-session/react`: `<SessionProvider client>` and hooks over the session client, built on
 * `useSyncExternalStore` (React ≥ 18). Correct under StrictMode (a store listens to the client
 * only while mounted components read it) and in server rendering (every hook renders its server
 * snapshot and never touches the client).
 *
 * @example
 * ```tsx
 * import { SessionProvider, useConnectionStatus, useInfiniteTopic } from 'shared-session/react';
 *
 * function Feed() {
 *   const { changes, hasMore, loadMore } = useInfiniteTopic<{ text: string }>('chat', { pageSize: 20 });
 *   return <>{hasMore && <button onClick={loadMore}>older</button>}{changes.map((c) => <p key={c.seq}>{c.data.text}</p>)}</>;
 * }
 * root.render(<SessionProvider client={client}><Feed /></SessionProvider>);
 * ```
 *
 * @packageDocumentation
 */
export { SessionProvider, useSessionClient, type SessionProviderProps } from './provider.js';
export {
  useConnectionStatus,
  useSession,
  useSessionError,
  useTopic,
  useInfiniteTopic,
  usePaginatedTopic,
  type UseTopicOptions,
  type UsePagedTopicOptions,
} from './hooks.js';
export type {
  BindableClient,
  InfiniteTopicSnapshot,
  PaginatedTopicSnapshot,
  TopicChange,
  TopicSnapshot,
} from '../bindings/index.js';
