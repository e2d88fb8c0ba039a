import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { WebSocket, type ClientOptions } from 'ws';
import { expect } from 'vitest';
import type { AttachedSessionServer } from '../../../../src/server/index.js';
import { mint, TestClient } from '../helpers.js';

/** The port an app's server listens on. */
export function portOf(server: HttpServer | HttpsServer): number {
  return (server.address() as AddressInfo).port;
}

/**
 * A full session over `url`: hello → welcome, subscribe, publish, the change comes back. Leaves
 * the client open (returns it) so that the caller can check the app while the session runs.
 */
export async function openSessionAndPublish(url: string, options?: ClientOptions): Promise<TestClient> {
  const client = await TestClient.connect(url, options);
  const welcome = await client.hello(await mint({ sub: 'alice', roles: ['member'] }));
  expect(welcome).toMatchObject({ type: 'welcome', userId: 'alice', roles: ['member'], rolesClaim: 'roles' });
  client.send({ type: 'subscribe', id: 1, topic: 'room', after: 0 });
  expect(await client.next()).toMatchObject({ type: 'subscribed', id: 1, topic: 'room' });
  client.send({ type: 'publish', id: 2, topic: 'room', clientId: 'c-1', data: { text: 'hi' } });
  const frames = [await client.next(), await client.next()];
  expect(frames).toContainEqual(expect.objectContaining({ type: 'published', id: 2, duplicate: false }));
  expect(frames).toContainEqual(expect.objectContaining({ type: 'change', topic: 'room', data: { text: 'hi' } }));
  return client;
}

/**
 * The HTTP status an upgrade to `url` is answered with (101 when it opens), and whether the server
 * then closed the connection.
 */
export function upgradeStatus(url: string, options?: ClientOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      ws.terminate();
    });
    ws.once('error', (error) => reject(error));
  });
}

/** A self-signed certificate for 127.0.0.1 and localhost, generated in-process. */
export async function selfSignedCertificate(): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
        ],
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** Closes an app's server (after the session server, which leaves it open). */
export function closeServer(server: HttpServer | HttpsServer): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

/**
 * What every attached session server must show at close: its sockets closed with 4503, the app's
 * server still listening.
 */
export async function closeAndExpectAppAlive(
  sessions: AttachedSessionServer,
  client: TestClient,
  app: HttpServer | HttpsServer,
): Promise<void> {
  await sessions.close();
  expect((await client.closed).code).toBe(4503);
  expect(app.listening).toBe(true);
}
