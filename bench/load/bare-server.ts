// The baseline of the load run: a bare `ws` server that does what the reference server does for a
// broadcast, and nothing else — parse a `publish`, answer `published`, serialise one `change` frame
// of the same shape and send it to every other socket. No auth, no sessions, no store.
// Run as a child process by run.ts; prints `listening on ws://127.0.0.1:<port>`; exits on SIGTERM.
import { WebSocket, WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true });
let seq = 0;

wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (raw) => {
    const message = JSON.parse(raw.toString()) as {
      type: string;
      id: number;
      topic: string;
      clientId: string;
      data: unknown;
    };
    if (message.type !== 'publish') return;
    seq++;
    ws.send(JSON.stringify({ type: 'published', id: message.id, topic: message.topic, seq, duplicate: false }));
    const frame = JSON.stringify({
      type: 'change',
      topic: message.topic,
      seq,
      data: message.data,
      publishedAt: Date.now(),
      clientId: message.clientId,
    });
    for (const client of wss.clients) if (client !== ws && client.readyState === WebSocket.OPEN) client.send(frame);
  });
});

wss.on('listening', () => {
  const address = wss.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  console.log(`bare ws listening on ws://127.0.0.1:${port}`);
});

process.once('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
});
