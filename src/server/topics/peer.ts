import type { SessionErrorCode } from '../../protocol/error-codes.js';
import type {
  HistoryRequestMessage,
  PublishMessage,
  ServerMessage,
  SubscribeMessage,
  UnsubscribeMessage,
} from '../../protocol/messages.js';
import type { OutgoingFrame } from '../transport/socket.js';
import type { Principal } from './permissions.js';

/**
 * The contract between a connection and the data plane, declared here by the data plane, its
 * consumer: what the topic code needs of a connection ({@link TopicPeer}) and which messages it
 * takes ({@link TopicMessage}). `session/connection.ts` satisfies it without the topic code ever
 * importing the connection.
 *
 * @module
 */

/** Messages of the data plane. */
export type TopicMessage = SubscribeMessage | UnsubscribeMessage | PublishMessage | HistoryRequestMessage;

/**
 * What a subscription writes to: a `Connection` satisfies it, tests pass a recorder.
 */
export interface Subscriber {
  /** Sends one serialised server message (as a text frame). */
  sendText(frame: OutgoingFrame): void;
  /** Bytes sent but not yet written to the network: how far the client is behind. */
  readonly bufferedAmount: number;
}

/**
 * A connection as the data plane sees it: who it is, how to answer it, how far behind it is.
 * Topic code keys its per-connection state by this object's identity.
 */
export interface TopicPeer extends Subscriber {
  /** The authenticated identity, `undefined` before `welcome`. */
  readonly session: Readonly<Principal> | undefined;
  /** Sends one message. */
  send(message: ServerMessage): void;
  /**
   * Sends an `error` frame.
   *
   * @param id - the request's id, when known
   * @param code - error code
   * @param message - lowercase, factual
   */
  sendError(id: number | undefined, code: SessionErrorCode, message: string): void;
}
