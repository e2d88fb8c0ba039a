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
export type { ConnectionStatus, SessionInfo, HostStats, HostKind, TopicChange } from '../protocol/host-api.js';
export type { JsonValue } from '../protocol/messages.js';
export { PROTOCOL_VERSION } from '../protocol/version.js';
export {
  registerServiceWorker,
  SKIP_WAITING_MESSAGE,
  type RegisterServiceWorkerOptions,
  type ServiceWorkerHandle,
  type ReloadsAllTabs,
} from './service-worker.js';
