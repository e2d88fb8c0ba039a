import type { Remote } from 'comlink';
import { describe, expect, it } from 'vitest';
import { ForbiddenError, SessionError } from '../../../src/errors/index.js';
import type { HostApi, TopicChange } from '../../../src/protocol/host-api.js';
import { HOST_CALL_TIMEOUT_MS, HostRpc } from '../../../src/page/host-rpc.js';
import { TabTopics } from '../../../src/page/tab-topics.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeHost } from './fake-host.js';

const change = (seq: number): TopicChange => ({ topic: 'room', seq, data: seq, publishedAt: 0 });

function setup() {
  const clock = new FakeClock();
  const host = new FakeHost();
  host.autoOutcome = false;
  const rpc = new HostRpc<Remote<HostApi>>(clock, () => undefined);
  rpc.open(host as unknown as Remote<HostApi>);
  const reported: unknown[] = [];
  const topics = new TabTopics('tab-1', rpc, clock, (error) => reported.push(error));
  return { clock, host, rpc, topics, reported };
}

describe('TabTopics', () => {
  it('delivers changes in order and resumes a new host after the last seq delivered', async () => {
    const { clock, host, topics } = setup();
    const seen: number[] = [];
    topics.subscribe('room', (c) => seen.push(c.seq), { since: 2, onError: undefined });
    await clock.flush();
    const subId = host.subscriptions[0]!.subId;
    expect(host.received[0]).toEqual({ method: 'subscribe', detail: { topic: 'room', since: 2 } });
    topics.onMessage({ type: 'changes', subId, changes: [change(3), change(4)] });
    topics.onMessage({ type: 'changes', subId, changes: [change(5)] });
    expect(seen).toEqual([3, 4, 5]);

    const next = new FakeHost();
    topics.replay(next as unknown as Remote<HostApi>);
    await clock.flush();
    expect(next.received).toEqual([{ method: 'subscribe', detail: { topic: 'room', since: 5 } }]);
  });

  it('stops delivering at once when a callback unsubscribes, even within one batch', async () => {
    const { clock, host, topics } = setup();
    const seen: number[] = [];
    let stop = () => {};
    stop = topics.subscribe(
      'room',
      (c) => {
        seen.push(c.seq);
        if (c.seq === 2) stop();
      },
      { since: undefined, onError: undefined },
    );
    await clock.flush();
    const subId = host.subscriptions[0]!.subId;
    topics.onMessage({ type: 'changes', subId, changes: [change(1), change(2), change(3)] });
    topics.onMessage({ type: 'changes', subId, changes: [change(4)] });
    await clock.flush();
    expect(seen).toEqual([1, 2]);
    expect(host.methods).toEqual(['subscribe', 'unsubscribe']);
  });

  it('reports a throwing onChange and goes on delivering', async () => {
    const { clock, host, topics, reported } = setup();
    const seen: number[] = [];
    const boom = new Error('render failed');
    topics.subscribe(
      'room',
      (c) => {
        seen.push(c.seq);
        if (c.seq === 1) throw boom;
      },
      { since: undefined, onError: undefined },
    );
    await clock.flush();
    const subId = host.subscriptions[0]!.subId;
    topics.onMessage({ type: 'changes', subId, changes: [change(1), change(2)] });
    expect(seen).toEqual([1, 2]);
    expect(reported).toEqual([boom]);
  });

  it('tells onError of a refused subscription with its typed error, once, and delivers nothing after', async () => {
    const { clock, host, topics } = setup();
    const errors: SessionError[] = [];
    const seen: number[] = [];
    topics.subscribe('room', (c) => seen.push(c.seq), { since: undefined, onError: (e) => errors.push(e) });
    await clock.flush();
    const subId = host.subscriptions[0]!.subId;
    topics.onMessage({ type: 'subscription-error', subId, code: 'FORBIDDEN', message: 'not for you' });
    topics.onMessage({ type: 'subscription-error', subId, code: 'FORBIDDEN', message: 'not for you' });
    topics.onMessage({ type: 'changes', subId, changes: [change(1)] });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ForbiddenError);
    expect(seen).toEqual([]);
  });

  it('resolves a publish with { seq } from its outcome, and rejects it with the typed error of a refused one', async () => {
    const { clock, host, topics } = setup();
    const accepted = topics.publish('room', { text: 'hi' });
    const refused = topics.publish('room', 2).catch((error: unknown) => error);
    await clock.flush();
    const [first, second] = host.publishes;
    topics.onMessage({
      type: 'publish-outcome',
      clientId: second!.clientId,
      outcome: { ok: false, code: 'FORBIDDEN', message: 'read only' },
    });
    topics.onMessage({
      type: 'publish-outcome',
      clientId: first!.clientId,
      outcome: { ok: true, seq: 4, duplicate: false },
    });
    await expect(accepted).resolves.toEqual({ seq: 4 });
    expect(await refused).toBeInstanceOf(ForbiddenError);
  });

  it('after close, still resolves a publish made before once its outcome arrives, and stops delivering changes', async () => {
    const { clock, host, topics } = setup();
    const seen: number[] = [];
    topics.subscribe('room', (c) => seen.push(c.seq), { since: undefined, onError: undefined });
    const published = topics.publish('room', 1);
    await clock.flush();
    const subId = host.subscriptions[0]!.subId;
    const clientId = host.publishes[0]!.clientId;
    let drained = false;
    void topics.close().then(() => (drained = true));
    topics.onMessage({ type: 'changes', subId, changes: [change(1)] });
    await clock.advance(HOST_CALL_TIMEOUT_MS - 1);
    expect(drained).toBe(false);
    topics.onMessage({ type: 'publish-outcome', clientId, outcome: { ok: true, seq: 9, duplicate: false } });
    await expect(published).resolves.toEqual({ seq: 9 });
    await clock.flush();
    expect(drained).toBe(true);
    expect(seen).toEqual([]);
  });

  it('after close, rejects a publish whose outcome does not arrive within HOST_CALL_TIMEOUT_MS with CLIENT_CLOSED', async () => {
    const { clock, topics } = setup();
    const published = topics.publish('room', 1).catch((error: unknown) => error);
    await clock.flush();
    const drained = topics.close();
    await clock.advance(HOST_CALL_TIMEOUT_MS);
    await drained;
    const error = await published;
    expect(error).toBeInstanceOf(SessionError);
    expect((error as SessionError).code).toBe('CLIENT_CLOSED');
    expect(clock.pending).toBe(0);
  });
});
