import client from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { PROMETHEUS_CONTENT_TYPE, renderMetrics } from '../../../src/server/operations/exposition.js';
import { createMemoryTopicStore, type SessionServer, type TopicStore } from '../../../src/server/index.js';
import { connectSession, mint, SECRET, startServer, TestClient, waitFor } from './helpers.js';

let server: SessionServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the Prometheus exposition writer', () => {
  it('writes exactly what prom-client writes for the same gauges and labelled counters, escapes included', async () => {
    const registry = new client.Registry();
    new client.Gauge({ name: 'a_gauge', help: 'A "gauge"\\ with\nnewline', registers: [registry] }).set(3);
    const counter = new client.Counter({ name: 'b_total', help: 'B.', labelNames: ['code'], registers: [registry] });
    counter.inc({ code: '4001' }, 2);
    counter.inc({ code: 'we"ird\\\n' }, 1);
    new client.Counter({ name: 'c_total', help: 'Empty.', labelNames: ['reason'], registers: [registry] });
    new client.Gauge({ name: 'd', help: 'Last.', registers: [registry] }).set(0.5);

    const ours = renderMetrics([
      { name: 'a_gauge', help: 'A "gauge"\\ with\nnewline', type: 'gauge', samples: [{ value: 3 }] },
      {
        name: 'b_total',
        help: 'B.',
        type: 'counter',
        samples: [
          { labels: { code: '4001' }, value: 2 },
          { labels: { code: 'we"ird\\\n' }, value: 1 },
        ],
      },
      { name: 'c_total', help: 'Empty.', type: 'counter', samples: [] },
      { name: 'd', help: 'Last.', type: 'gauge', samples: [{ value: 0.5 }] },
    ]);
    expect(ours).toBe(await registry.metrics());
    expect(PROMETHEUS_CONTENT_TYPE).toBe(registry.contentType);
  });

  it('refuses invalid metric and label names', () => {
    expect(() => renderMetrics([{ name: 'bad-name', help: '', type: 'gauge', samples: [] }])).toThrow(TypeError);
    expect(() =>
      renderMetrics([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'bad-label': 'x' }, value: 1 }] }]),
    ).toThrow(TypeError);
  });
});

describe('GET /metrics', () => {
  it('counts sockets, sessions, subscriptions, changes, refreshes and closes by code, with no user id', async () => {
    server = await startServer();
    const s = server;
    const { client: alice } = await connectSession(s, await mint({ sub: 'alice-user-id' }));
    alice.send({ type: 'subscribe', id: 1, topic: 'room', after: 0 });
    await alice.next();
    alice.send({ type: 'publish', id: 2, topic: 'room', clientId: 'c1', data: 1 });
    await alice.next();
    await alice.next();
    alice.send({ type: 'update-token', id: 3, token: await mint({ sub: 'alice-user-id' }) });
    await alice.next();
    const refused = await TestClient.connect(s.url);
    refused.send({ type: 'hello', protocol: 1, token: 'not.a.jwt', sessionId: 'x' });
    await refused.closed;
    await waitFor(() => s.stats().sockets === 1);

    const response = await fetch(`http://127.0.0.1:${s.port}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PROMETHEUS_CONTENT_TYPE);
    const text = await response.text();
    for (const line of [
      'shared_session_ready 1',
      'shared_session_sockets 1',
      'shared_session_sessions 1',
      'shared_session_subscriptions 1',
      'shared_session_topic_groups 1',
      'shared_session_sockets_opened_total 2',
      'shared_session_changes_stored_total 1',
      'shared_session_changes_sent_total 1',
      'shared_session_token_refreshes_total 1',
      'shared_session_socket_closes_total{code="4001"} 1',
      '# TYPE shared_session_upgrades_rejected_total counter',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text).not.toContain('alice-user-id');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    await alice.close();
  });
});

describe('GET /health readiness', () => {
  /** The memory store with a ping that fails on demand. */
  function storeWithPing(fails: () => boolean): TopicStore {
    const memory = createMemoryTopicStore();
    return {
      append: (...args) => memory.append(...args),
      read: (...args) => memory.read(...args),
      head: (...args) => memory.head(...args),
      readBefore: (...args) => memory.readBefore(...args),
      ping: () => (fails() ? Promise.reject(new Error('database unreachable')) : Promise.resolve()),
      close: () => memory.close(),
    };
  }

  it('answers 503 with ready false while the store does not answer, and 200 once it does', async () => {
    let down = true;
    server = await startServer({ store: storeWithPing(() => down) });
    const url = `http://127.0.0.1:${server.port}/health`;
    const unavailable = await fetch(url);
    expect(unavailable.status).toBe(503);
    expect(await unavailable.json()).toMatchObject({
      status: 'unavailable',
      live: true,
      ready: false,
      store: 'unreachable',
    });
    expect((await fetch(`${url}/live`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text()).toContain('shared_session_ready 0');
    down = false;
    expect(await (await fetch(url)).json()).toMatchObject({ status: 'ok', ready: true, store: 'ok' });
  });

  it('reports a store without ping() as unknown (and ready), and a closing server as not ready', async () => {
    const memory = createMemoryTopicStore();
    const store: TopicStore = {
      append: (...args) => memory.append(...args),
      read: (...args) => memory.read(...args),
      head: (...args) => memory.head(...args),
      readBefore: (...args) => memory.readBefore(...args),
      close: () => memory.close(),
    };
    const s = await startServer({ store });
    expect(await s.health()).toMatchObject({ ready: true, store: 'unknown' });
    await s.close();
    expect(await s.health()).toMatchObject({ ready: false, shuttingDown: true, status: 'unavailable' });
    await memory.close();
  });

  it('serves the endpoints on the paths of the operations option, or not at all', async () => {
    server = await startServer({
      auth: { secret: SECRET },
      operations: { healthPath: '/internal/health', metricsPath: false },
    });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/internal/health`)).status).toBe(200);
    expect((await fetch(`${base}/health`)).status).toBe(426);
    expect((await fetch(`${base}/metrics`)).status).toBe(426);
    await expect(startServer({ operations: { healthPath: 'health' } })).rejects.toThrow(TypeError);
  });
});
