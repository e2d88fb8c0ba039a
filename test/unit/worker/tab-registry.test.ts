import type { Remote } from 'comlink';
import { describe, expect, it } from 'vitest';
import type { TabCallbacks, TabRegistration } from '../../../src/protocol/host-api.js';
import { TAB_MAX_MISSED_DEADLINES, TabRegistry, type TabDeparture } from '../../../src/worker/tab-registry.js';
import { FakeClock } from '../support/fake-clock.js';

/** Web Locks whose held locks the test releases by hand, as a closing page does. */
class FakeLocks {
  readonly held = new Map<string, () => void>();

  request(name: string, _options: { signal?: AbortSignal }, callback: () => void): Promise<void> {
    return new Promise<void>((resolve) => {
      this.held.set(name, () => {
        callback();
        resolve();
      });
    });
  }
}

function registration(tabId: string): TabRegistration {
  return { tabId, lockName: `lock-${tabId}`, protocol: 1, buildId: 'unit-test', visible: true };
}

const callbacks = {} as Remote<TabCallbacks>;
const events = () => ({ postMessage: () => undefined, close: () => undefined });

function registry() {
  const departures: [string, TabDeparture][] = [];
  const clock = new FakeClock();
  const locks = new FakeLocks();
  const tabs = new TabRegistry(
    (tab, why) => departures.push([tab.registration.tabId, why]),
    clock,
    locks as unknown as LockManager,
  );
  return { tabs, departures, clock, locks };
}

describe('TabRegistry departures', () => {
  it('says a tab that detached itself "detached"', () => {
    const { tabs, departures } = registry();
    tabs.add(registration('a'), callbacks, events());
    tabs.remove('a');
    expect(departures).toEqual([['a', 'detached']]);
  });

  it('says a tab whose page closed (its lock was released) "closed"', async () => {
    const { tabs, departures, locks } = registry();
    tabs.add(registration('a'), callbacks, events());
    locks.held.get('lock-a')?.();
    await Promise.resolve();
    expect(departures).toEqual([['a', 'closed']]);
  });

  it(`says a tab that missed ${TAB_MAX_MISSED_DEADLINES} deadlines "unresponsive", and nothing when a tab attaches again`, async () => {
    const { tabs, departures, clock } = registry();
    const tab = tabs.add(registration('a'), callbacks, events());
    tabs.add(registration('b'), callbacks, events());
    tabs.add(registration('b'), callbacks, events()); // the same tab again: nothing departed
    for (let missed = 0; missed < TAB_MAX_MISSED_DEADLINES; missed++) {
      const call = tabs.call(tab, () => new Promise<never>(() => undefined), 100, 'refreshHandler');
      const failed = expect(call).rejects.toMatchObject({ code: 'TIMEOUT' });
      await clock.advance(100);
      await failed;
    }
    expect(departures).toEqual([['a', 'unresponsive']]);
  });
});
