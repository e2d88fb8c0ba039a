import { randomUUID } from 'node:crypto';
import type { ChangeMessage, JsonValue, ServerMessage } from '../../../src/protocol/messages.js';
import type { TopicStore } from '../../../src/server/index.js';
import type { TestClient } from './helpers.js';

/** Sends `subscribe` and returns the answer (normally `subscribed`). */
export function subscribe(client: TestClient, id: number, topic: string, after = 0): Promise<ServerMessage> {
  client.send({ type: 'subscribe', id, topic, after });
  return client.next();
}

/** Sends `publish` (with a fresh clientId unless given) and returns the answer. */
export function publish(
  client: TestClient,
  id: number,
  topic: string,
  data: JsonValue,
  clientId: string = randomUUID(),
): Promise<ServerMessage> {
  client.send({ type: 'publish', id, topic, clientId, data });
  return client.next();
}

/** Reads the next `count` frames and checks they are all `change`s. */
export async function changes(client: TestClient, count: number, timeoutMs = 5000): Promise<ChangeMessage[]> {
  const received: ChangeMessage[] = [];
  while (received.length < count) {
    const message = await client.next(timeoutMs);
    if (message.type !== 'change') throw new Error(`expected a change, got ${JSON.stringify(message)}`);
    received.push(message);
  }
  return received;
}

/**
 * Sends `ping` and checks that `pong` is the next frame: nothing was sent in between. Proof that
 * nothing is pending only for frames the server sends while handling earlier frames or
 * synchronously with a `server.publish` the test awaited (live fan-out).
 */
export async function expectNothingBeforePong(client: TestClient, id: number): Promise<void> {
  client.send({ type: 'ping', id });
  const next = await client.next();
  if (next.type !== 'pong' || next.id !== id) throw new Error(`expected pong ${id}, got ${JSON.stringify(next)}`);
}

/** The numbers `from..to`. */
export function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** Appends `count` changes `{ n }` straight to a store (concurrently: LMDB commits them together). */
export async function seed(store: TopicStore, topic: string, count: number): Promise<void> {
  const base = await store.head(topic);
  await Promise.all(range(base + 1, base + count).map((n) => store.append(topic, { n })));
}
