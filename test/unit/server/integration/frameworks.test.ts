import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import type { Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createSessionServer } from '../../../../src/server/index.js';
import { SECRET } from '../helpers.js';
import { closeAndExpectAppAlive, closeServer, openSessionAndPublish, portOf, upgradeStatus } from './support.js';

const auth = { secret: SECRET };

/** The app's own JSON route, asked while a session runs on the same port. */
async function appAnswers(port: number): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${port}/api/hello?name=bob`);
  expect(response.status).toBe(200);
  return response.json();
}

describe('attached to an Express 5 app', () => {
  it("serves sessions on /session while the app's routes, health and metrics answer on the same port", async () => {
    const app = express();
    app.use(express.json());
    app.get('/api/hello', (req, res) => void res.json({ hello: req.query.name }));
    app.post('/api/echo', (req, res) => void res.json(req.body));
    const http = await new Promise<Server>((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve(server));
    });
    const sessions = await createSessionServer({ server: http, path: '/session', auth, logger: false });
    app.use('/ops', sessions.httpHandler);

    const client = await openSessionAndPublish(`ws://127.0.0.1:${portOf(http)}/session`);
    expect(await appAnswers(portOf(http))).toEqual({ hello: 'bob' });
    const echoed = await fetch(`http://127.0.0.1:${portOf(http)}/api/echo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: 1 }),
    });
    expect(await echoed.json()).toEqual({ n: 1 });
    const health = await fetch(`http://127.0.0.1:${portOf(http)}/ops/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ ready: true, sessions: 1, sockets: 1, changesStored: 1 });
    const metrics = await (await fetch(`http://127.0.0.1:${portOf(http)}/ops/metrics`)).text();
    expect(metrics).toContain('shared_session_sockets 1');
    // Express answers its own 404 for what neither it nor the handler serves.
    expect((await fetch(`http://127.0.0.1:${portOf(http)}/ops/nothing`)).status).toBe(404);
    expect(await upgradeStatus(`ws://127.0.0.1:${portOf(http)}/elsewhere`)).toBe(404);
    expect(sessions.stats().upgradesRejected).toEqual({ path: 1 });

    await closeAndExpectAppAlive(sessions, client, http);
    expect(await appAnswers(portOf(http))).toEqual({ hello: 'bob' });
    await closeServer(http);
  });
});

describe('attached to a Fastify 5 app', () => {
  it("serves sessions on /session beside the app's routes, with health from sessions.health()", async () => {
    const fastify = Fastify();
    fastify.get('/api/hello', async (request) => ({ hello: (request.query as { name?: string }).name }));
    const sessions = await createSessionServer({ server: fastify.server, path: '/session', auth, logger: false });
    fastify.get('/health', async (_request, reply) => {
      const report = await sessions.health();
      return reply.code(report.ready ? 200 : 503).send(report);
    });
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const port = portOf(fastify.server);

    const client = await openSessionAndPublish(`ws://127.0.0.1:${port}/session`);
    expect(await appAnswers(port)).toEqual({ hello: 'bob' });
    expect(await (await fetch(`http://127.0.0.1:${port}/health`)).json()).toMatchObject({ ready: true, sockets: 1 });
    expect(await upgradeStatus(`ws://127.0.0.1:${port}/session-not`)).toBe(404);

    await closeAndExpectAppAlive(sessions, client, fastify.server);
    expect(await appAnswers(port)).toEqual({ hello: 'bob' });
    await fastify.close();
  });
});

describe('attached to a Hono app on @hono/node-server', () => {
  it("serves sessions on /session beside the app's routes, with metrics from sessions.metrics()", async () => {
    const app = new Hono();
    app.get('/api/hello', (c) => c.json({ hello: c.req.query('name') }));
    let metrics: () => Promise<string> = async () => '';
    app.get('/metrics', async (c) => c.text(await metrics()));
    const http = await new Promise<Server>((resolve) => {
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(server as Server));
    });
    const sessions = await createSessionServer({ server: http, path: '/session', auth, logger: false });
    metrics = () => sessions.metrics();

    const client = await openSessionAndPublish(`ws://127.0.0.1:${portOf(http)}/session?v=1`);
    expect(await appAnswers(portOf(http))).toEqual({ hello: 'bob' });
    const text = await (await fetch(`http://127.0.0.1:${portOf(http)}/metrics`)).text();
    expect(text).toContain('shared_session_sessions 1');
    expect(text).toContain('shared_session_changes_stored_total 1');

    await closeAndExpectAppAlive(sessions, client, http);
    expect(await appAnswers(portOf(http))).toEqual({ hello: 'bob' });
    await closeServer(http);
  });
});
