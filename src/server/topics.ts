import type { PublishMessage, SubscribeMessage, UnsubscribeMessage } from '../protocol/messages.js';
import type { Connection } from './connection.js';

/**
 * The plug-in point of the data plane. A connection hands every topic message of an authenticated
 * session to the server's {@link TopicHandler} (`TopicService` in `topic-service.ts`).
 *
 * @module
 */

/** Messages of the data plane. */
export type TopicMessage = SubscribeMessage | UnsubscribeMessage | PublishMessage;

/**
 * The data plane plugged into every connection (topics, outbox). Receives the topic messages of
 * authenticated connections, in each connection's frame order (the next frame waits for the
 * returned promise), and learns when a connection goes away so it can drop that connection's
 * subscriptions. Answers go through `connection.send`.
 */
export interface TopicHandler {
  handle(connection: Connection, message: TopicMessage): void | Promise<void>;
  disconnected(connection: Connection): void;
}
