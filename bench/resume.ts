// `npm run bench:resume`: what a resume costs. A 100,000-change topic; a client that saw all but
// the last 10 resubscribes after its cursor (what the host does after a reconnect, reload or
// restart), next to a fresh subscribe from the start — counted at the server (`changesSent`) and
// on the wire, in one run, on the memory and the LMDB store. `--quick` uses 10,000 changes.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createSessionServer, type SessionServer, type SessionServerOptions } from 'shared-session/server';
import { createTokenMinter } from 'shared-session/testing';
import WebSocket from 'ws';

const quick = process.argv.includes('--quick');
const TOTAL = quick ? 10_000 : 100_000;
const MISSED = 10;

interface Transfer {
  frames: number;
  bytes: number;
  ms: number;
}

/** Opens a session, subscribes after `after` and waits for the topic's head; counts change frames. */
async function subscribeAfter(server: SessionServer, token: string, after: number): Promise<Transfer> {
  const socket = new WebSocket(server.url);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  let frames = 0;
  let bytes = 0;
  let started = 0;
  const done = new Promise<number>((resolve, reject) => {
    socket.on('message', (raw: Buffer) => {
      const message = JSON.parse(raw.toString()) as { type: string; seq?: number; code?: string };
      if (message.type === 'welcome') {
        started = performance.now();
        socket.send(JSON.stringify({ type: 'subscribe', id: 1, topic: 'history', after }));
      } else if (message.type === 'change') {
        frames++;
        bytes += raw.length;
        if (message.seq === TOTAL) resolve(performance.now() - started);
      } else if (message.type === 'error') reject(new Error(message.code));
    });
  });
  socket.send(JSON.stringify({ type: 'hello', protocol: 1, token, sessionId: randomBytes(8).toString('hex') }));
  const ms = await done;
  socket.close();
  return { frames, bytes, ms };
}

async function measure(label: string, store: NonNullable<SessionServerOptions['store']>) {
  const secret = randomBytes(32).toString('hex');
  const server = await createSessionServer({ port: 0, auth: { secret }, logger: false, rateLimit: false, store });
  const token = await createTokenMinter(secret)({ sub: 'bench' });
  const filled = performance.now();
  for (let seq = 1; seq <= TOTAL; seq += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, TOTAL - seq + 1) }, (_, i) =>
        server.publish('history', { n: seq + i, text: 'x'.repeat(40) }),
      ),
    );
  }
  const fillMs = performance.now() - filled;
  const sentBefore = server.stats().changesSent;
  const resume = await subscribeAfter(server, token, TOTAL - MISSED);
  const sentOnResume = server.stats().changesSent - sentBefore;
  const fresh = await subscribeAfter(server, token, 0);
  await server.close();
  return { label, fillMs, resume, sentOnResume, fresh };
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'shared-session-resume-'));
try {
  const results = [await measure('memory', 'memory'), await measure('LMDB', { path: dir })];
  console.log(
    `\nresume after ${MISSED} missed changes of a ${TOTAL.toLocaleString('en')}-change topic${quick ? ' (quick)' : ''}`,
  );
  console.log(
    '\n| store | sent on resume (server) | resume frames / bytes / ms | fresh subscribe frames / bytes / ms | resume vs fresh (bytes, time) |',
  );
  console.log('|---|---|---|---|---|');
  for (const r of results) {
    const ratioBytes = r.resume.bytes / r.fresh.bytes;
    const ratioTime = r.resume.ms / r.fresh.ms;
    console.log(
      `| ${r.label} | ${r.sentOnResume} (target ${MISSED}) | ${r.resume.frames} / ${r.resume.bytes} / ${r.resume.ms.toFixed(1)} | ` +
        `${r.fresh.frames} / ${r.fresh.bytes} / ${r.fresh.ms.toFixed(0)} | ${ratioBytes.toExponential(1)}×, ${ratioTime.toExponential(1)}× |`,
    );
  }
  console.log(`\n(filling the topic took ${results.map((r) => `${r.label} ${Math.round(r.fillMs)} ms`).join(', ')})`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
