// The server under attack, in its own process so that its RSS is measured alone. Started by
// memory-bombs.ts with the path of a `createSessionServer` module (this tree's, or an older
// tree's for the "before" column). Answers { type: 'rss' } with its RSS after a GC, and
// { type: 'seed', topic, count, bytes } by publishing `count` changes of `bytes` each.
import { pathToFileURL } from 'node:url';

interface ServerModule {
  createSessionServer(options: Record<string, unknown>): Promise<{
    port: number;
    publish(topic: string, data: unknown): Promise<{ seq: number }>;
    close(): Promise<void>;
  }>;
}

const [modulePath = '../../src/server/index.ts', secret = 'attack-bench-secret-long-enough-for-hs256'] =
  process.argv.slice(2);
const { createSessionServer } = (await import(pathToFileURL(modulePath).href)) as ServerModule;
const server = await createSessionServer({
  port: 0,
  logger: false,
  auth: { secret },
  // The stalled-subscriber attack uses 32 sockets of one user: measure backpressure, not the cap.
  limits: { maxSocketsPerUser: 64 },
});

const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', async (message: { type: string; topic?: string; count?: number; bytes?: number }) => {
  if (message.type === 'rss') {
    gc?.();
    process.send?.({ type: 'rss', rss: process.memoryUsage().rss });
  } else if (message.type === 'seed') {
    const payload = 'x'.repeat(message.bytes ?? 1);
    for (let n = 1; n <= (message.count ?? 0); n++) await server.publish(message.topic ?? 't', { n, payload });
    process.send?.({ type: 'seeded' });
  } else if (message.type === 'publish') {
    const { seq } = await server.publish(message.topic ?? 't', { at: Date.now() });
    process.send?.({ type: 'published', seq });
  } else if (message.type === 'close') {
    await server.close();
    process.exit(0);
  }
});
process.send?.({ type: 'ready', port: server.port });
