/**
 * `shared-session/worker`: the session host, for apps that build their own SharedWorker.
 *
 * @packageDocumentation
 */
export {
  hostSession,
  hostLeaderSession,
  createSessionHost,
  DEFAULT_BUILD_ID,
  TAKE_OVER_SUFFIX,
  type HostSessionOptions,
  type HostScope,
} from './host-session.js';
export { SessionHost, LAST_TAB_GRACE_MS, type SessionHostOptions } from './session-host.js';
export { REFRESH_LEAD_MS, REFRESH_CALL_TIMEOUT_MS } from './refresh-schedule.js';
export {
  REQUEST_TIMEOUT_MS,
  CONNECT_TIMEOUT_MS,
  STABLE_CONNECTION_MS,
  PING_INTERVAL_MS,
  PONG_TIMEOUT_MS,
  PROBE_TIMEOUT_MS,
} from './server-connection.js';
export { INITIAL_RECONNECT_DELAY_MS, MAX_RECONNECT_DELAY_MS } from './backoff.js';
export { DATABASE_NAME } from './host-database.js';
export { TOPIC_CACHE_LIMIT } from './topic-subscriptions.js';
export { MAX_PUBLISH_BYTES } from './outbox.js';
export type * from '../protocol/host-api.js';
