import { afterEach, describe, expect, it } from 'vitest';
import type { JsonValue } from '../../../src/protocol/messages.js';
import {
  createMemoryTopicStore,
  type AppendOptions,
  type AppendResult,
  type SessionServer,
  type TopicStore,
} from '../../../src/server/index.js';
import { MAX_PIPELINED_PUBLISHES } from '../../../src/server/topics/service.js';
import { connectSession, mint, startServer } from '../server/helpers.js';

/**
 * A memory store whose appends are applied at once (in call order, as every store numbers them)
 * but resolve only when the test releases them: a durable store whose commit has not come yet.
 */
function heldStore(): TopicStore & { calls: string[]; release(count?: number): void; held(): number } {
  const inner = createMemoryTopicStore();
  const waiting: Array<() => void> = [];
  const calls: string[] = [];
  return {
    ...inner,
    calls,
    append(topic: string, data: JsonValue, options?: AppendOptions): Promise<AppendResult> {
      calls.push(`${topic}:${JSON.stringify(data)}`);
      const applied = inner.append(topic, data, options);
      return new Promise((resolve, reject) => waiting.push(() => applied.then(resolve, reject)));
    },
    release(count = waiting.length) {
      for (const commit of waiting.splice(0, count)) commit();
    },
    held: () => waiting.length,
  };
}

/** Resolves once the store has been called `count` times, checking after each turn of the event loop. */
async function callsReach(store: ReturnType<typeof heldStore>, count: number): Promise<void> {
  while (store.calls.length < count) await new Promise((resolve) => setImmediate(resolve));
}

describe('pipelined publishes of one connection', () => {
  let server: SessionServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('hands a socket’s publishes to the store before the earlier ones commit, and answers them in frame order', async () => {
    const store = heldStore();
    server = await startServer({ store });
    const { client } = await connectSession(server, await mint({ sub: 'alice' }));
    for (let id = 1; id <= 5; id++) client.send({ type: 'publish', id, topic: 'chat', clientId: `c-${id}`, data: id });
    await callsReach(store, 5); // all five appends started; none has committed
    expect(store.held()).toBe(5);
    client.send({ type: 'ping', id: 6 });
    // Commit the later ones first: answers still go out in frame order, the pong last.
    store.release(5);
    const answers = [];
    for (let i = 0; i < 6; i++) answers.push(await client.next());
    expect(answers.map((a) => [a.type, 'id' in a ? a.id : undefined])).toEqual([
      ['published', 1],
      ['published', 2],
      ['published', 3],
      ['published', 4],
      ['published', 5],
      ['pong', 6],
    ]);
    expect(answers.slice(0, 5).map((a) => (a.type === 'published' ? a.seq : 0))).toEqual([1, 2, 3, 4, 5]);
  });

  it('answers a refused publish between pending ones in its place, not ahead of them', async () => {
    const store = heldStore();
    server = await startServer({ store, permissions: { 'chat:*': { read: ['user'], write: ['user'] } } });
    const { client } = await connectSession(server, await mint({ sub: 'alice', roles: ['user'] }));
    client.send({ type: 'publish', id: 1, topic: 'chat:a', clientId: 'c-1', data: 1 });
    client.send({ type: 'publish', id: 2, topic: 'secret', clientId: 'c-2', data: 2 });
    client.send({ type: 'publish', id: 3, topic: 'chat:a', clientId: 'c-3', data: 3 });
    await callsReach(store, 2);
    store.release();
    const answers = [await client.next(), await client.next(), await client.next()];
    expect(answers.map((a) => [a.type, 'id' in a ? a.id : undefined])).toEqual([
      ['published', 1],
      ['error', 2],
      ['published', 3],
    ]);
  });

  it(`keeps at most ${MAX_PIPELINED_PUBLISHES} appends of one socket waiting for their commits`, async () => {
    const store = heldStore();
    server = await startServer({ store });
    const { client } = await connectSession(server, await mint({ sub: 'alice' }));
    const total = MAX_PIPELINED_PUBLISHES + 10;
    for (let id = 1; id <= total; id++) client.send({ type: 'publish', id, topic: 't', clientId: `c-${id}`, data: id });
    await callsReach(store, MAX_PIPELINED_PUBLISHES);
    // The next publish waits for the oldest answer: nothing more reaches the store meanwhile.
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.calls).toHaveLength(MAX_PIPELINED_PUBLISHES);
    store.release(1);
    await callsReach(store, MAX_PIPELINED_PUBLISHES + 1);
    while (store.calls.length < total || store.held() > 0) {
      store.release();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const seqs = [];
    for (let i = 0; i < total; i++) {
      const answer = await client.next();
      seqs.push(answer.type === 'published' ? answer.seq : -1);
    }
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });
});
