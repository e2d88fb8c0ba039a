/**
 * `shared-session/page` (also the package root): the session API for tabs.
 *
 * @packageDocumentation
 */
export {
  SessionClient,
  HOST_CALL_TIMEOUT_MS,
  type SessionClientOptions,
  type RefreshOptions,
  type RefreshHandler,
  type SubscribeOptions,
} from './session-client.js';
export * from '../errors/index.js';
export {
  HISTORY_DEFAULT_LIMIT,
  HISTORY_MAX_LIMIT,
  type ConnectionStatus,
  type SessionInfo,
  type HostStats,
  type HostInspection,
  type HostKind,
  type TopicChange,
  type HistoryPage,
  type HistoryRequest,
  type CloseRecord,
  type RefreshRecord,
  type InspectedTab,
  type InspectedTopic,
  type InspectedPublish,
} from '../protocol/host-api.js';
export type { JsonValue } from '../protocol/messages.js';
export { PROTOCOL_VERSION, WIRE_PROTOCOL_VERSION, HOST_API_VERSION, LIBRARY_BUILD_ID } from '../protocol/version.js';
export { validateTopicName, MAX_TOPIC_LENGTH } from '../protocol/topic-name.js';
export {
  registerServiceWorker,
  SKIP_WAITING_MESSAGE,
  type RegisterServiceWorkerOptions,
  type ServiceWorkerHandle,
  type ReloadsAllTabs,
} from './service-worker.js';
