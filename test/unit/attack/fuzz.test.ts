import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../../src/protocol/messages.js';
import { exceedsJsonDepth, parseClientMessage } from '../../../src/protocol/parse.js';
import type { SessionServer } from '../../../src/server/index.js';
import { connectSession, mint, startServer, TestClient, type Closed } from '../server/helpers.js';
import { changes, subscribe } from '../server/topic-helpers.js';

// Issue 10, property tests: random and mutated frames never crash the parser or the server; every
// refusal is a typed error or a close in 4000–4999; a healthy client on the same server keeps
// receiving throughout.

const TYPES = ['hello', 'update-token', 'ping', 'end', 'subscribe', 'unsubscribe', 'publish', 'history', 'nope'];
const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];

/** A value of any JSON-ish kind, prototype keys included. */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.dictionary(fc.constantFrom(...PROTO_KEYS), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  fc.constantFrom(-1, 1.5, 2 ** 53, Number.MAX_SAFE_INTEGER, '', 'x'.repeat(300), null, [], {}),
);

/** A frame shaped like a request, with wrong types for any field. */
const mutatedFrame = fc
  .record(
    {
      type: fc.oneof(fc.constantFrom(...TYPES), anyValue),
      id: anyValue,
      topic: fc.oneof(fc.constantFrom('chat', 'user:bob', 'a\u0000b', '\ud800'), anyValue),
      after: anyValue,
      before: anyValue,
      limit: anyValue,
      clientId: anyValue,
      data: anyValue,
      token: anyValue,
      protocol: anyValue,
      sessionId: anyValue,
    },
    { requiredKeys: [] },
  )
  .map((fields) => JSON.stringify(fields));

/** Text frames of every kind: mutated requests, deep JSON, prototype keys, random text. */
const textFrame = fc.oneof(
  mutatedFrame,
  fc.string({ maxLength: 200 }),
  fc.integer({ min: 1, max: 5000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.integer({ min: 1, max: 5000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.constant('{"__proto__":{"polluted":true},"type":"ping","id":1}'),
  fc.json({ maxDepth: 4 }),
);

const frame = fc.oneof(
  { weight: 4, arbitrary: textFrame.map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ binary: Buffer.from(bytes) })) },
);

describe('frame parser properties', () => {
  it('never throws, and answers ok with a known type or a refusal with a reason', () => {
    fc.assert(
      fc.property(textFrame, (raw) => {
        const parsed = parseClientMessage(raw);
        if (parsed.ok) expect(TYPES).toContain(parsed.message.type);
        else expect(typeof parsed.reason).toBe('string');
      }),
      { numRuns: 2000 },
    );
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('refuses exactly the frames nested deeper than the limit, whatever strings they hold', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 8 }), (value, limit) => {
        const text = JSON.stringify(value);
        const depth = (v: unknown): number =>
          typeof v === 'object' && v !== null ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0;
        expect(exceedsJsonDepth(text, limit)).toBe(depth(value) > limit);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('a live server under random frames', () => {
  let server: SessionServer;
  let healthy: TestClient;
  let published = 0;
  beforeAll(async () => {
    server = await startServer({ limits: { maxSocketsPerUser: 1000 } });
    healthy = (await connectSession(server, await mint({ sub: 'healthy' }))).client;
    expect(await subscribe(healthy, 1, 'heartbeat')).toMatchObject({ type: 'subscribed' });
  });
  afterAll(async () => {
    await healthy.close();
    await server.close();
  });

  /** The healthy client still gets a change published now. */
  async function healthyReceives(): Promise<void> {
    published++;
    await server.publish('heartbeat', published);
    expect((await changes(healthy, 1))[0]!.seq).toBe(published);
  }

  const send = (client: TestClient, f: { text?: string; binary?: Buffer }) =>
    f.binary === undefined ? client.send(f.text ?? '') : client.ws.send(f.binary, { binary: true });

  it('closes a socket whose first frame is random with a code in 4000–4999', async () => {
    await fc.assert(
      fc.asyncProperty(frame, async (f) => {
        const client = await TestClient.connect(server.url);
        send(client, f);
        const closed: Closed = await client.closed;
        expect(closed.code).toBeGreaterThanOrEqual(4000);
        expect(closed.code).toBeLessThan(5000);
        await healthyReceives();
      }),
      { numRuns: 60 },
    );
  });

  it('answers random frames after hello with typed errors or answers, or a typed close, never a crash', async () => {
    const token = await mint({ sub: 'fuzzer' });
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 8 }), async (frames) => {
        const { client } = await connectSession(server, token);
        for (const f of frames) send(client, f);
        client.send({ type: 'ping', id: 424242 });
        let answer: ServerMessage | undefined;
        const outcome = await Promise.race([
          (async () => {
            do answer = await client.next(10_000);
            while (!(answer.type === 'pong' && answer.id === 424242));
            return 'pong' as const;
          })().catch(() => 'closed' as const),
          client.closed.then(() => 'closed' as const),
        ]);
        if (outcome === 'closed') {
          const { code } = await client.closed;
          expect(code >= 4000 && code < 5000).toBe(true);
        } else {
          for (const message of client.drain()) expect(typeof message.type).toBe('string');
          await client.close();
        }
        await healthyReceives();
      }),
      { numRuns: 60 },
    );
  });
});
