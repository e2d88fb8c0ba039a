import { describe, expect, it } from 'vitest';
import {
  DEVTOOLS_INSPECT_TIMEOUT_MS,
  DEVTOOLS_REFRESH_MS,
  DevtoolsInspector,
  type DevtoolsSnapshot,
  type VisibilitySource,
} from '../../../src/devtools/inspector.js';
import type { HostInspection } from '../../../src/protocol/host-api.js';
import { FakeClock } from '../support/fake-clock.js';
import { FakeDevtoolsClient, sampleInspection } from './fake-devtools-client.js';

/** A page whose visibility the test switches. */
class FakeVisibility implements VisibilitySource {
  visible = true;
  readonly #listeners = new Set<() => void>();
  get listeners(): number {
    return this.#listeners.size;
  }
  onChange(callback: () => void): () => void {
    this.#listeners.add(callback);
    return () => this.#listeners.delete(callback);
  }
  set(visible: boolean): void {
    this.visible = visible;
    for (const callback of this.#listeners) callback();
  }
}

function setup() {
  const clock = new FakeClock();
  const visibility = new FakeVisibility();
  const snapshots: DevtoolsSnapshot[] = [];
  const inspector = new DevtoolsInspector({ clock, visibility, onUpdate: (snapshot) => snapshots.push(snapshot) });
  const client = new FakeDevtoolsClient();
  return { clock, visibility, snapshots, inspector, client };
}

/** A promise the test settles. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('the devtools inspector', () => {
  it('inspects once when it starts, then every second while open and visible', async () => {
    const { clock, inspector, client } = setup();
    inspector.client = client;
    inspector.running = true;
    await clock.advance(0);
    expect(client.inspections).toBe(1);
    expect(inspector.snapshot.inspection?.sessionId).toBe(sampleInspection().sessionId);

    await clock.advance(DEVTOOLS_REFRESH_MS * 3);
    expect(client.inspections, 'a collapsed panel does not poll').toBe(1);

    inspector.open = true;
    await clock.advance(0);
    expect(client.inspections, 'opening it inspects at once').toBe(2);
    await clock.advance(DEVTOOLS_REFRESH_MS * 3);
    expect(client.inspections).toBe(5);
  });

  it('stops polling while the page is hidden and inspects again when it becomes visible', async () => {
    const { clock, visibility, inspector, client } = setup();
    inspector.client = client;
    inspector.open = true;
    inspector.running = true;
    await clock.advance(0);
    visibility.set(false);
    await clock.advance(DEVTOOLS_REFRESH_MS * 5);
    expect(client.inspections).toBe(1);
    expect(clock.pending).toBe(0);
    visibility.set(true);
    await clock.advance(0);
    expect(client.inspections).toBe(2);
    await clock.advance(DEVTOOLS_REFRESH_MS);
    expect(client.inspections).toBe(3);
  });

  it('keeps no listener and no timer while not running (detached from the DOM)', async () => {
    const { clock, visibility, inspector, client } = setup();
    inspector.client = client;
    inspector.open = true;
    expect(client.listeners).toBe(0);
    await clock.advance(DEVTOOLS_REFRESH_MS * 2);
    expect(client.inspections).toBe(0);

    inspector.running = true;
    await clock.advance(DEVTOOLS_REFRESH_MS);
    expect(client.listeners).toBe(3);
    expect(visibility.listeners).toBe(1);

    inspector.running = false;
    const before = client.inspections;
    expect(client.listeners).toBe(0);
    expect(visibility.listeners).toBe(0);
    expect(clock.pending).toBe(0);
    await clock.advance(DEVTOOLS_REFRESH_MS * 5);
    expect(client.inspections).toBe(before);
  });

  it('refreshes on the client events and records the status and the last session error', async () => {
    const { clock, inspector, client } = setup();
    inspector.client = client;
    inspector.running = true;
    await clock.advance(0);

    client.setStatus('CONNECTING');
    expect(inspector.snapshot.status).toBe('CONNECTING');
    await clock.advance(0);
    expect(client.inspections).toBe(2);

    client.changeSession(undefined);
    await clock.advance(0);
    expect(client.inspections).toBe(3);

    client.failSession('TOKEN_EXPIRED');
    expect(inspector.snapshot.lastSessionError).toEqual({ type: 'TOKEN_EXPIRED', at: clock.now() });
    await clock.advance(0);
    expect(client.inspections).toBe(4);
  });

  it('coalesces events that arrive while an inspection is out into one more inspection', async () => {
    const { clock, inspector, client } = setup();
    const first = deferred<HostInspection>();
    client.answer = () => first.promise;
    inspector.client = client;
    inspector.running = true;
    client.setStatus('CONNECTING');
    client.changeSession(undefined);
    const done = inspector.refresh();
    expect(client.inspections).toBe(1);
    client.answer = async () => sampleInspection({ tabs: 3 });
    first.resolve(sampleInspection({ tabs: 1 }));
    await done;
    expect(client.inspections).toBe(2);
    expect(inspector.snapshot.inspection?.tabs, 'the later answer wins').toBe(3);
    await clock.advance(0);
    expect(client.inspections).toBe(2);
  });

  it('disconnects from the previous client and drops its late answer', async () => {
    const { clock, inspector, client } = setup();
    const late = deferred<HostInspection>();
    client.answer = () => late.promise;
    inspector.client = client;
    inspector.running = true;
    const next = new FakeDevtoolsClient();
    next.answer = async () => sampleInspection({ kind: 'leader' });
    inspector.client = next;
    expect(client.listeners).toBe(0);
    await clock.advance(0);
    late.resolve(sampleInspection({ kind: 'shared-worker', tabs: 9 }));
    await clock.advance(0);
    expect(inspector.snapshot.inspection?.kind).toBe('leader');
    expect(inspector.snapshot.inspection?.tabs).toBe(2);

    inspector.client = undefined;
    expect(next.listeners).toBe(0);
    expect(inspector.snapshot.inspection).toBeUndefined();
    expect(clock.pending).toBe(0);
  });

  it('shows a host that does not answer, and recovers when it answers again', async () => {
    const { clock, inspector, client } = setup();
    const never = new Promise<HostInspection>(() => undefined);
    client.answer = () => never;
    inspector.client = client;
    inspector.running = true;
    await clock.advance(DEVTOOLS_INSPECT_TIMEOUT_MS);
    expect(inspector.snapshot.inspectError).toBe(
      `TIMEOUT: inspect() did not answer within ${DEVTOOLS_INSPECT_TIMEOUT_MS} ms`,
    );

    client.answer = () => Promise.reject(Object.assign(new Error('the host is gone'), { code: 'HOST_UNAVAILABLE' }));
    await inspector.refresh();
    expect(inspector.snapshot.inspectError).toBe('HOST_UNAVAILABLE: the host is gone');

    client.answer = async () => sampleInspection();
    await inspector.refresh();
    expect(inspector.snapshot.inspectError).toBeUndefined();
    expect(inspector.snapshot.inspectedAt).toBe(clock.now());
  });
});
