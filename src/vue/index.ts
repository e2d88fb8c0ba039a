/**
 * `shared-session/vue`: composables over the session client with the names and shapes of
 * `shared-session/react`, returning refs (Vue 3). `provideSessionClient(client)` in a root
 * component (or `app.provide(SESSION_CLIENT_KEY, client)`) makes the client available below it.
 * A composable listens to the client while its component (or effect scope) lives; in server
 * rendering it holds the server snapshot and never touches the client.
 *
 * @example
 * ```ts
 * import { provideSessionClient, useConnectionStatus, useTopic } from 'shared-session/vue';
 * // in App's setup:  provideSessionClient(client);
 * // in a child:      const status = useConnectionStatus(); const { changes } = useTopic<Message>('chat');
 * ```
 *
 * @packageDocumentation
 */
export { SESSION_CLIENT_KEY, provideSessionClient, useSessionClient } from './client.js';
export {
  useConnectionStatus,
  useSession,
  useSessionError,
  useTopic,
  useInfiniteTopic,
  usePaginatedTopic,
  type UseTopicOptions,
  type UsePagedTopicOptions,
  type TopicRefs,
  type InfiniteTopicRefs,
  type PaginatedTopicRefs,
} from './composables.js';
export type { BindableClient, TopicChange } from '../bindings/index.js';
