import type { Remote } from 'comlink';
import { afterEach, describe, expect, it } from 'vitest';
import { HostUnavailableError, SessionError } from '../../../src/errors/index.js';
import type { HostApi, HostHello, TabMessage } from '../../../src/protocol/host-api.js';
import { connectLeaderHost } from '../../../src/page/leader-connection.js';
import { HOST_CALL_TIMEOUT_MS, HostRpc } from '../../../src/page/host-rpc.js';
import {
  HOST_HEALTH_INTERVAL_MS,
  HOST_HEALTH_MAX_MISSES,
  HOST_HEALTH_TIMEOUT_MS,
  HostSupervisor,
  type HostMode,
  SHARED_WORKER_ATTACH_TIMEOUT_MS,
  type SupervisedTab,
} from '../../../src/page/host-supervisor.js';
import type { HostConnection } from '../../../src/page/host-connection.js';
import { FakeClock } from '../support/fake-clock.js';
import { connectDirectly, type FakeConnection, FakeHost, fakeEnvironment } from './fake-host.js';

const supervisors: HostSupervisor[] = [];
afterEach(async () => {
  // Closes the events ports the supervisors opened, so that the test worker can exit.
  await Promise.all(supervisors.splice(0).map((supervisor) => supervisor.close(Promise.resolve())));
});

/** A tab that records what the supervisor tells it; `replay` re-subscribes like a tab with one subscription. */
function recordingTab() {
  const tab = {
    hellos: [] as HostHello[],
    messages: [] as TabMessage[],
    unavailable: [] as HostUnavailableError[],
    replays: 0,
    tabId: 'tab-1',
    lockName: 'shared-session:tab:tab-1',
    callbacks: { refreshToken: async () => undefined },
    onMessage: (message: TabMessage) => void tab.messages.push(message),
    onAttached: (hello: HostHello) => void tab.hellos.push(hello),
    replay: async (api: Remote<HostApi>) => {
      tab.replays++;
      await api.subscribe('tab-1', { subId: 'sub-1', topic: 'room', since: 7 });
    },
    onUnavailable: (error: HostUnavailableError) => void tab.unavailable.push(error),
  } satisfies SupervisedTab & Record<string, unknown>;
  return tab;
}

function supervise(
  mode: HostMode,
  hosts: Partial<Record<'shared-worker' | 'leader', () => HostConnection>>,
  options: { sharedWorker?: boolean } = {},
) {
  const clock = new FakeClock();
  const tab = recordingTab();
  let supervisor!: HostSupervisor;
  const rpc = new HostRpc<Remote<HostApi>>(clock, (error) => supervisor.reportUnresponsive(error));
  const env = fakeEnvironment(clock, hosts, options);
  supervisor = new HostSupervisor(mode, tab, rpc, env);
  supervisors.push(supervisor);
  return { clock, tab, rpc, env, supervisor };
}

describe('HostSupervisor', () => {
  it('holds the tab lock, attaches, and opens the calls to the host', async () => {
    const worker = new FakeHost('shared-worker');
    const { clock, tab, rpc, env, supervisor } = supervise('auto', { 'shared-worker': () => connectDirectly(worker) });
    expect(supervisor.phase.name).toBe('attaching');
    const session = rpc.call((api) => api.getSession());
    await clock.flush();
    expect(supervisor.phase.name).toBe('attached');
    expect(env.locksHeld).toEqual(new Set([tab.lockName]));
    expect(worker.tabs.get(tab.tabId)?.registration).toMatchObject({ tabId: tab.tabId, lockName: tab.lockName });
    expect(tab.hellos).toHaveLength(1);
    await expect(session).resolves.toBeUndefined();
    expect(worker.methods).toEqual(['attach', 'getSession']);
    expect(supervisor.kind).toBe('shared-worker');
  });

  it('pings the host every HOST_HEALTH_INTERVAL_MS; after HOST_HEALTH_MAX_MISSES misses it reports the host once and moves to a leader host, replaying the tab and re-sending calls in flight', async () => {
    const worker = new FakeHost('shared-worker');
    const leader = new FakeHost('leader');
    const silentWorker = connectDirectly(worker);
    const { clock, tab, rpc, env, supervisor } = supervise('auto', {
      'shared-worker': () => silentWorker,
      leader: () => connectDirectly(leader),
    });
    await clock.flush();
    await clock.advance(HOST_HEALTH_INTERVAL_MS);
    expect(worker.methods.filter((m) => m === 'ping')).toHaveLength(1);

    worker.silence('ping');
    worker.silence('getSession');
    const inFlight = rpc.call((api) => api.getSession());
    const misses = HOST_HEALTH_MAX_MISSES * HOST_HEALTH_INTERVAL_MS + HOST_HEALTH_TIMEOUT_MS;
    await clock.advance(misses - 1);
    expect(tab.unavailable).toHaveLength(0);
    await clock.advance(1);
    expect(tab.unavailable).toHaveLength(1);
    expect(tab.unavailable[0]).toBeInstanceOf(HostUnavailableError);
    expect(env.connected).toEqual(['shared-worker', 'leader']);
    expect(worker.methods).toContain('detach'); // so that the worker frees the socket should it wake
    expect(supervisor.phase.name).toBe('attached');
    expect(supervisor.kind).toBe('leader');
    expect(tab.replays).toBe(1);
    // The replay reached the new host before the call re-sent to it.
    expect(leader.methods).toEqual(['attach', 'subscribe', 'getSession']);
    expect(leader.received[1]?.detail).toEqual({ topic: 'room', since: 7 });
    await expect(inFlight).resolves.toBeUndefined();
    // No second report while the leader answers.
    await clock.advance(3 * HOST_HEALTH_INTERVAL_MS);
    expect(tab.unavailable).toHaveLength(1);
  });

  it("learns at once that its SharedWorker ended (the host's alive lock is granted to the tab) and moves to a leader host, with no missed pings", async () => {
    const worker = new FakeHost('shared-worker');
    worker.aliveLock = 'shared-session:host-alive:w1';
    const leader = new FakeHost('leader');
    const { clock, tab, env, supervisor } = supervise('auto', {
      'shared-worker': () => connectDirectly(worker),
      leader: () => connectDirectly(leader),
    });
    await clock.flush();
    expect(supervisor.kind).toBe('shared-worker');
    worker.silence('ping'); // the worker is gone: nothing answers any more
    const endedAt = clock.now();

    env.endLock('shared-session:host-alive:w1');
    await clock.flush();
    expect(tab.unavailable).toHaveLength(1);
    expect(tab.unavailable[0]?.message).toContain('SharedWorker stopped');
    expect(supervisor.phase.name).toBe('attached');
    expect(supervisor.kind).toBe('leader');
    expect(tab.replays).toBe(1);
    expect(clock.now() - endedAt).toBe(0); // no health ping had to miss
  });

  it("hands a leader host's ended worker to its connection (restart or wait for the next leader), without reporting the host unavailable", async () => {
    const leader = new FakeHost('leader');
    leader.aliveLock = 'shared-session:host-alive:l1';
    let ended = 0;
    const { clock, tab, env, supervisor } = supervise('leader', {
      leader: () => ({ ...connectDirectly(leader), hostEnded: () => void ended++ }),
    });
    await clock.flush();
    expect(supervisor.kind).toBe('leader');
    env.endLock('shared-session:host-alive:l1');
    await clock.flush();
    expect(ended).toBe(1);
    // A leader tab that closed is an ordinary hand-over: nothing for the app to hear of.
    expect(tab.unavailable).toHaveLength(0);
    expect(supervisor.phase.name).toBe('attached');
  });

  it('stops waiting for the alive lock of a host it left (closed, or moved on)', async () => {
    const worker = new FakeHost('shared-worker');
    worker.aliveLock = 'shared-session:host-alive:w2';
    const { clock, tab, env, supervisor } = supervise('auto', { 'shared-worker': () => connectDirectly(worker) });
    await clock.flush();
    await supervisor.close(Promise.resolve());
    env.endLock('shared-session:host-alive:w2');
    await clock.flush();
    expect(tab.unavailable).toHaveLength(0);
  });

  it('reports a host whose call passed its deadline, and with host: "auto" moves to a leader host', async () => {
    const worker = new FakeHost('shared-worker');
    const leader = new FakeHost('leader');
    const { clock, tab, rpc, supervisor } = supervise('auto', {
      'shared-worker': () => connectDirectly(worker),
      leader: () => connectDirectly(leader),
    });
    await clock.flush();
    worker.silence('inspect');
    const stuck = rpc.call((api) => api.inspect()).catch((error: unknown) => error);
    await clock.advance(HOST_CALL_TIMEOUT_MS);
    expect(await stuck).toBeInstanceOf(HostUnavailableError);
    expect(tab.unavailable).toHaveLength(1);
    expect(supervisor.kind).toBe('leader');
  });

  it('gives up a SharedWorker that does not answer attach within SHARED_WORKER_ATTACH_TIMEOUT_MS for a leader host (host: "auto")', async () => {
    const worker = new FakeHost('shared-worker');
    worker.silence('attach');
    const leader = new FakeHost('leader');
    const worker$ = connectDirectly(worker);
    const { clock, rpc, supervisor } = supervise('auto', {
      'shared-worker': () => worker$,
      leader: () => connectDirectly(leader),
    });
    const call = rpc.call((api) => api.getSession());
    await clock.advance(SHARED_WORKER_ATTACH_TIMEOUT_MS);
    expect(supervisor.phase.name).toBe('attached');
    expect(supervisor.kind).toBe('leader');
    expect(worker$.closed).toBe(true);
    await expect(call).resolves.toBeUndefined();
    expect(leader.methods).toEqual(['attach', 'getSession']);
  });

  it('with host: "shared-worker", a worker that fails to start fails the calls with its HostUnavailableError (no fallback)', async () => {
    const worker$ = connectDirectly(new FakeHost('shared-worker'));
    worker$.host.pause('attach');
    const { clock, rpc, env, supervisor } = supervise('shared-worker', { 'shared-worker': () => worker$ });
    const call = rpc.call((api) => api.getSession()).catch((error: unknown) => error);
    const failure = new HostUnavailableError('the shared-session SharedWorker failed to start');
    worker$.fail(failure);
    await clock.flush();
    expect(await call).toBe(failure);
    expect(supervisor.phase).toMatchObject({ name: 'failed', error: failure });
    expect(env.connected).toEqual(['shared-worker']);
    await expect(rpc.call((api) => api.getSession())).rejects.toBe(failure);
  });

  it('rejects calls after a failed leader attach with HostUnavailableError, not TypeError', async () => {
    // In Node there are no Web Locks, BroadcastChannel workers or SharedWorker: the leader host cannot run.
    const { clock, rpc, supervisor } = supervise('leader', { leader: () => connectLeaderHost('tab-1', undefined) });
    const first = rpc.call((api) => api.getSession()).catch((error: unknown) => error);
    await clock.flush();
    expect(await first).toBeInstanceOf(HostUnavailableError);
    expect(supervisor.phase.name).toBe('failed');
    const later = await rpc.call((api) => api.getSession()).catch((error: unknown) => error);
    expect(later).toBeInstanceOf(HostUnavailableError);
    expect(later).not.toBeInstanceOf(TypeError);
    expect((later as SessionError).code).toBe('HOST_UNAVAILABLE');
  });

  it('re-attaches when a new leader replaces the host: calls made meanwhile wait, calls in flight are re-sent after the replay, in their first order', async () => {
    const first = new FakeHost('leader');
    const link: FakeConnection = connectDirectly(first);
    const { clock, tab, rpc, supervisor } = supervise('leader', { leader: () => link });
    await clock.flush();
    first.silence('publish'); // the old leader dies with these calls unanswered
    const inFlight = [
      rpc.call((api) => api.publish('tab-1', { clientId: 'c1', topic: 'room', data: 1 })),
      rpc.call((api) => api.publish('tab-1', { clientId: 'c2', topic: 'room', data: 2 })),
    ];
    await clock.flush();
    const next = new FakeHost('leader');
    next.pause('attach');
    link.replace(next);
    expect(supervisor.phase.name).toBe('recovering');
    const madeMeanwhile = rpc.call((api) => api.publish('tab-1', { clientId: 'c3', topic: 'room', data: 3 }));
    await clock.flush();
    expect(next.methods).toEqual(['attach']); // nothing goes out before the attach answered
    next.resume('attach');
    await Promise.all([...inFlight, madeMeanwhile]);
    expect(tab.replays).toBe(1);
    expect(next.received.map((call) => call.detail ?? call.method)).toEqual([
      'attach',
      { topic: 'room', since: 7 },
      1,
      2,
      3,
    ]);
    expect(supervisor.phase.name).toBe('attached');
  });

  it('on close, stops supervising, waits for what is pending, then detaches and lets go of the host and the lock', async () => {
    const worker = new FakeHost('shared-worker');
    const worker$ = connectDirectly(worker);
    const { clock, tab, env, supervisor } = supervise('auto', { 'shared-worker': () => worker$ });
    await clock.flush();
    let drain!: () => void;
    const closed = supervisor.close(new Promise<void>((resolve) => (drain = resolve)));
    expect(supervisor.phase.name).toBe('closing');
    await clock.advance(10 * HOST_HEALTH_INTERVAL_MS);
    expect(worker.methods).not.toContain('ping');
    expect(worker.methods).not.toContain('detach');
    drain();
    await closed;
    expect(worker.methods.at(-1)).toBe('detach');
    expect(worker.tabs.has(tab.tabId)).toBe(false);
    expect(supervisor.phase.name).toBe('closed');
    expect(worker$.closed).toBe(true);
    expect(env.locksHeld.size).toBe(0);
  });
});
