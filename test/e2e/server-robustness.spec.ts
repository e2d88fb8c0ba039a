import WebSocket from 'ws';
import { expect, openSession, test } from './fixtures.ts';

/** What a raw client saw: frames received and how the socket ended. */
interface RawOutcome {
  received: string[];
  closeCode: number | undefined;
}

/** Opens a raw socket to `url`, runs `send`, and waits for the close or `settleMs`. */
async function rawClient(
  url: string,
  send: (ws: WebSocket, next: () => Promise<string>) => void | Promise<void>,
  settleMs = 1_000,
): Promise<RawOutcome> {
  const ws = new WebSocket(url);
  const outcome: RawOutcome = { received: [], closeCode: undefined };
  const waiters: ((frame: string) => void)[] = [];
  ws.on('message', (data) => {
    const frame = data.toString();
    outcome.received.push(frame.slice(0, 200));
    waiters.shift()?.(frame);
  });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let settled = false;
  const closed = new Promise<void>((resolve) =>
    ws.once('close', (code) => {
      if (!settled) outcome.closeCode = code;
      resolve();
    }),
  );
  const next = () => new Promise<string>((resolve) => waiters.push(resolve));
  await Promise.race([send(ws, next), closed]);
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, settleMs))]);
  settled = true;
  ws.terminate();
  return outcome;
}

/** Spec §7: bad input yields a typed error frame or a close with a code in 4000–4999. */
function answeredTyped(outcome: RawOutcome): boolean {
  const closedWithCode = outcome.closeCode !== undefined && outcome.closeCode >= 4000 && outcome.closeCode <= 4999;
  return closedWithCode || outcome.received.some((frame) => frame.includes('"type":"error"'));
}

test.describe('the reference server and bad input (spec §7)', () => {
  test.use({ serverOptions: { helloTimeoutMs: 500 } });

  test('the server survives garbage frames and still serves a browser session', async ({
    server,
    mintToken,
    openTab,
  }) => {
    const outcomes: Record<string, RawOutcome> = {};

    outcomes['junk before hello'] = await rawClient(server.url, (ws) => {
      for (const frame of ['not json', '[]', '{"type":1}', '{"type":"nope"}', '{"type":"hello","protocol":"x"}', '']) {
        ws.send(frame);
      }
    });
    outcomes['binary'] = await rawClient(server.url, (ws) => ws.send(Buffer.from([0, 1, 2, 255, 254, 0x7b])));
    outcomes['huge frame'] = await rawClient(server.url, (ws) => ws.send('x'.repeat(8 * 1024 * 1024)));
    outcomes['nothing (hello timeout)'] = await rawClient(server.url, () => {}, 3_000);
    const token = await mintToken({ sub: 'mallory' });
    const hello = () => JSON.stringify({ type: 'hello', protocol: 1, token, sessionId: crypto.randomUUID() });
    outcomes['junk after welcome'] = await rawClient(server.url, async (ws, next) => {
      ws.send(hello());
      await next();
      ws.send(JSON.stringify({ type: 'launch-missiles', id: 1 }));
      ws.send(JSON.stringify({ type: 'subscribe', id: 2, topic: '', after: -1 }));
      ws.send('{"type":"ping","id":3');
      ws.send(Buffer.from('binary after hello'));
    });
    outcomes['flood after welcome'] = await rawClient(server.url, async (ws, next) => {
      ws.send(hello());
      await next();
      // More than the burst of 2,000 the rate limit allows (a burst within it is served).
      for (let i = 0; i < 5_000; i++) ws.send(JSON.stringify({ type: 'ping', id: 100 + i }));
    });
    for (const [name, outcome] of Object.entries(outcomes)) {
      console.log(
        `raw client "${name}": close ${outcome.closeCode ?? 'none (still open)'}, ${outcome.received.length} frames` +
          (outcome.received[0] ? `, first ${outcome.received[0]}` : ''),
      );
    }
    for (const [name, outcome] of Object.entries(outcomes)) {
      expect(answeredTyped(outcome), `"${name}" gets a typed error or a 4xxx close`).toBe(true);
    }
    expect(outcomes['nothing (hello timeout)']?.closeCode, 'close code after no hello').toBe(4008);

    await expect.poll(() => server.stats().sockets).toBe(0);
    const page = await openTab();
    await openSession(page, server.url, await mintToken({ sub: 'alice' }));
    const stats = server.stats();
    expect(stats.sockets).toBe(1);
    expect(stats.socketsByUser['alice']).toBe(1);
  });
});
