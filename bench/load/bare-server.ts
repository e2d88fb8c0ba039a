// The baselines of the load run: a bare `ws` server that does what the reference server does for a
// broadcast, and nothing else — parse a `publish`, answer `published`, serialise one `change` frame
// of the same shape and send it to every other socket. No sessions, no store, no limits.
// With `--jwt-secret S` (the reference server gets its secret on the command line too) it is the fair baseline of the connect rate too: the first frame must be
// a `hello` whose token jose verifies (HS256, with `exp`, as the reference server does), answered
// with a `welcome`; `subscribe` is answered with `subscribed`.
// Run as a child process by run.ts; prints `listening on ws://127.0.0.1:<port>`; exits on SIGTERM.
import { jwtVerify } from 'jose';
import { WebSocket, WebSocketServer } from 'ws';

const secretFlag = process.argv.indexOf('--jwt-secret');
const secret = secretFlag > 0 ? process.argv[secretFlag + 1] : undefined;
const key = secret === undefined ? undefined : new TextEncoder().encode(secret);
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true });
let seq = 0;

interface Frame {
  type: string;
  id: number;
  topic: string;
  clientId: string;
  data: unknown;
  token: string;
  sessionId: string;
}

/** Verifies the hello's token and answers `welcome`, or closes with 4001. */
async function hello(ws: WebSocket, frame: Frame, verifyKey: Uint8Array): Promise<void> {
  try {
    const { payload } = await jwtVerify(frame.token, verifyKey, { algorithms: ['HS256'] });
    const welcome = { type: 'welcome', protocol: 1, sessionId: frame.sessionId, userId: payload.sub };
    ws.send(JSON.stringify({ ...welcome, roles: payload.roles, expiresAt: (payload.exp ?? 0) * 1000 }));
  } catch {
    ws.close(4001, 'token refused');
  }
}

wss.on('connection', (ws) => {
  ws.on('error', () => {});
  let welcomed = key === undefined;
  ws.on('message', (raw) => {
    const message = JSON.parse(raw.toString()) as Frame;
    if (!welcomed && key !== undefined) {
      welcomed = true;
      if (message.type !== 'hello') return ws.close(4000, 'first frame must be "hello"');
      return void hello(ws, message, key);
    }
    if (message.type === 'subscribe') {
      return ws.send(JSON.stringify({ type: 'subscribed', id: message.id, topic: message.topic, head: seq }));
    }
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
  console.log(`bare ws${key === undefined ? '' : ' + jose'} listening on ws://127.0.0.1:${port}`);
});

process.once('SIGTERM', () => {
  for (const client of wss.clients) client.terminate();
  wss.close(() => process.exit(0));
});
