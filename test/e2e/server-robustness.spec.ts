import WebSocket from 'ws';
import { expect, openSession, test } from './fixtures.ts';

/** What a raw client saw: frames received and how the socket ended. */
interface RawOutcome {
  received: string[];
  closeCode: number | undefined;
}

/** Opens a raw socket to `url`, runs `send`, and waits for the close or `settleMs`. */
async function rawClient(url: string, send: (ws: WebSocket) => void, settleMs = 1_000): Promise<RawOutcome> {
  const ws = new WebSocket(url);
  const outcome: RawOutcome = { received: [], closeCode: undefined };
  ws.on('message', (data) => outcome.received.push(data.toString().slice(0, 200)));
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<void>((resolve) =>
    ws.once('close', (code) => {
      outcome.closeCode = code;
      resolve();
    }),
  );
  send(ws);
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, settleMs))]);
  ws.terminate();
  return outcome;
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
    outcomes['junk after hello'] = await rawClient(server.url, (ws) => {
      ws.send(JSON.stringify({ type: 'hello', protocol: 1, token, sessionId: crypto.randomUUID() }));
      ws.send(JSON.stringify({ type: 'launch-missiles', id: 1 }));
      ws.send(JSON.stringify({ type: 'subscribe', id: 2, topic: '', after: -1 }));
      ws.send('{"type":"ping","id":3');
      for (let i = 0; i < 500; i++) ws.send(JSON.stringify({ type: 'ping', id: 100 + i }));
      ws.send(Buffer.from('binary after hello'));
    });
    for (const [name, outcome] of Object.entries(outcomes)) {
      console.log(
        `raw client "${name}": close ${outcome.closeCode ?? 'none (still open)'}, ${outcome.received.length} frames` +
          (outcome.received[0] ? `, first ${outcome.received[0]}` : ''),
      );
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
